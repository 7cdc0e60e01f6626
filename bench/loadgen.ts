// The load generator: plain node:net clients on 127.0.0.1 that play the protocol from the
// client's side (read the greeting, send one line or stay silent, wait for the server's close).
// It runs in the benchmark's own process and measures its own CPU time, so a reader can tell
// whether the clients, not the server, were the bottleneck. Every wait here is bounded.

import net from 'node:net';
import { performance } from 'node:perf_hooks';

export const benchHost = '127.0.0.1';

/** Why a client did not complete; counted per reason. */
export type Failures = Record<string, number>;

export interface ProtocolText {
  /** The greeting line expected from the server, without its newline. */
  greeting: string;
  /** The line each client sends back, without its newline. */
  reply: string;
}

export interface BurstResult {
  clients: number;
  /** Clients that saw the right greeting, sent their line and saw the server close. */
  completed: number;
  failures: Failures;
  /** From the first connect() call to the last client's 'close'. */
  wallMs: number;
  /** Per completed client, connect() to 'close', sorted ascending. */
  latenciesMs: number[];
  /** This process's user + system CPU time over the burst. */
  cpuMs: number;
  /** How long the synchronous loop of connect() calls itself took. */
  connectLoopMs: number;
}

/** A greeting longer than this is not the greeting; the client gives up instead of buffering. */
const maxGreetingChars = 1024;

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function count(failures: Failures, reason: string): void {
  failures[reason] = (failures[reason] ?? 0) + 1;
}

/**
 * Connects `clients` clients at once (one synchronous loop of connect() calls), each doing
 * connect → greeting → reply line → server close. Resolves when every client has closed, or
 * after `timeoutMs`, when the stragglers are destroyed and counted as `timeout`.
 */
export function runBurst(port: number, clients: number, text: ProtocolText, timeoutMs: number): Promise<BurstResult> {
  return new Promise((resolve) => {
    const failures: Failures = {};
    const latenciesMs: number[] = [];
    const sockets: net.Socket[] = [];
    const replyLine = `${text.reply}\n`;
    let settled = 0;
    let timedOut = false;
    const cpuStart = process.cpuUsage();
    const t0 = performance.now();
    let lastClose = t0;
    let connectLoopMs = Number.NaN;

    const deadline = setTimeout(() => {
      timedOut = true;
      for (const socket of sockets) socket.destroy();
    }, timeoutMs);

    function settle(): void {
      settled += 1;
      if (settled < clients) return;
      clearTimeout(deadline);
      latenciesMs.sort((a, b) => a - b);
      resolve({
        clients,
        completed: latenciesMs.length,
        failures,
        wallMs: lastClose - t0,
        latenciesMs,
        cpuMs: cpuMsSince(cpuStart),
        connectLoopMs,
      });
    }

    for (let i = 0; i < clients; i += 1) {
      const started = performance.now();
      const socket = net.connect({ host: benchHost, port });
      sockets.push(socket);
      let received = '';
      let greetingOk = false;
      let replied = false;
      let serverEnded = false;
      let errorCode: string | null = null;
      socket.setEncoding('utf8');
      socket.on('data', function clientOnData(chunk: string) {
        if (replied) return;
        received += chunk;
        const lf = received.indexOf('\n');
        if (lf === -1) {
          if (received.length > maxGreetingChars) socket.destroy();
          return;
        }
        greetingOk = received.slice(0, lf) === text.greeting;
        replied = true;
        socket.write(replyLine);
      });
      // allowHalfOpen is false on the client: the server's FIN makes it end its side too.
      socket.on('end', function clientOnEnd() {
        serverEnded = true;
      });
      socket.on('error', function clientOnError(err: NodeJS.ErrnoException) {
        errorCode ??= err.code ?? 'UNKNOWN';
      });
      socket.on('close', function clientOnClose() {
        const now = performance.now();
        lastClose = Math.max(lastClose, now);
        if (errorCode !== null) count(failures, errorCode);
        else if (!serverEnded) count(failures, timedOut ? 'timeout' : 'noServerClose');
        else if (!replied) count(failures, 'noGreeting');
        else if (!greetingOk) count(failures, 'wrongGreeting');
        else latenciesMs.push(now - started);
        settle();
      });
    }
    connectLoopMs = performance.now() - t0;
  });
}

export interface IdleClients {
  clients: number;
  /** Clients that received the greeting and were still open when the last wave finished. */
  greeted: number;
  failures: Failures;
  /** From the first connect() call to the last greeting. */
  connectMs: number;
  /** This process's CPU time while connecting. */
  cpuMs: number;
  /** Clients still open now (a server that times them out would make this drop). */
  open(): number;
  /** Destroys every client and resolves once all have closed. */
  close(): Promise<void>;
}

/**
 * Opens `clients` clients that read the greeting and then stay silent, `waveSize` at a time
 * (each wave waits for its greetings, so the listen backlog never overflows). Resolves once all
 * are greeted or failed, or rejects after `timeoutMs`.
 */
export async function openIdle(
  port: number,
  clients: number,
  text: ProtocolText,
  waveSize: number,
  timeoutMs: number,
): Promise<IdleClients> {
  const failures: Failures = {};
  const sockets = new Set<net.Socket>();
  const cpuStart = process.cpuUsage();
  const t0 = performance.now();
  const giveUpAt = t0 + timeoutMs;
  let greeted = 0;

  function openOne(): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: benchHost, port });
      sockets.add(socket);
      let received = '';
      let done = false;
      const finish = (reason: string | null): void => {
        if (done) return;
        done = true;
        if (reason === null) greeted += 1;
        else count(failures, reason);
        resolve();
      };
      socket.setEncoding('utf8');
      socket.on('data', function clientOnData(chunk: string) {
        if (done) return;
        received += chunk;
        const lf = received.indexOf('\n');
        if (lf !== -1) finish(received.slice(0, lf) === text.greeting ? null : 'wrongGreeting');
        else if (received.length > maxGreetingChars) finish('wrongGreeting');
      });
      socket.on('error', function clientOnError(err: NodeJS.ErrnoException) {
        finish(err.code ?? 'UNKNOWN');
      });
      socket.on('close', function clientOnClose() {
        sockets.delete(socket);
        finish('closedBeforeGreeting');
      });
    });
  }

  for (let opened = 0; opened < clients; opened += waveSize) {
    const wave = Math.min(waveSize, clients - opened);
    const remaining = giveUpAt - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, remaining));
    });
    const outcome = await Promise.race([Promise.all(Array.from({ length: wave }, openOne)), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const socket of sockets) socket.destroy();
      throw new Error(`idle clients: only ${greeted} of ${clients} greeted within ${timeoutMs} ms`);
    }
  }
  const connectMs = performance.now() - t0;
  const cpuMs = cpuMsSince(cpuStart);

  return {
    clients,
    greeted,
    failures,
    connectMs,
    cpuMs,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        if (sockets.size === 0) return resolve();
        let left = sockets.size;
        for (const socket of sockets) {
          socket.once('close', () => {
            left -= 1;
            if (left === 0) resolve();
          });
          socket.destroy();
        }
      }),
  };
}
