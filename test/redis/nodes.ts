// Nodes of one IRC network on Redis for the tests: each is the built CLI (dist/, what `npm start`
// runs) as a real process on port 0, started with `--protocol irc --redis URL`, flood limits
// lifted and a short node timeout (so a SIGKILLed node is declared dead within seconds). Every
// process started here is remembered, so `killNodes()` in an afterEach/afterAll ends them all,
// even those whose start failed half-way, and the test process kills them when it exits.

import type { ChildProcess } from 'node:child_process';
import { connectClient, type ConnectOptions, type TestClient } from '../irc/clients.js';
import { connectIrc, type RawIrc } from '../irc/raw.js';
import { run, serverBin, type Running } from '../process.js';

/** `--node-timeout` in the tests: a node silent this long is dead (the server beats every 1 s). */
export const nodeTimeoutMs = 1_500;

/** How long a node may take from spawn to its listening line (a loaded 2-core machine). */
const startTimeoutMs = 15_000;

export type Exit = { code: number | null; signal: NodeJS.Signals | null; at: number };

export interface IrcNode extends Running {
  port: number;
  /** `--server-name`, e.g. `n1.test`: what its clients see as the server. */
  serverName: string;
  /** Its index in the network (from its `Network: node N connected` line); null without --redis. */
  index: number | null;
  /** SIGKILL (or another signal) now; resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with how it exited. */
  terminate(graceMs?: number): Promise<Exit>;
  /** True until the process has exited. */
  alive(): boolean;
}

export interface NodeOptions {
  /** `--network`: nodes with the same Redis URL and network name are one network. */
  network?: string;
  /** Flags added after the usual ones (a later flag wins). */
  extraArgs?: string[];
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of started) proc.kill('SIGKILL');
});

/** The flags every test node gets; the tests want throughput and quick failure detection. */
function commonArgs(serverName: string): string[] {
  return [
    '--protocol', 'irc',
    '--host', '127.0.0.1',
    '--port', '0',
    '--server-name', serverName,
    '--flood-burst', '1000',
    '--flood-rate', '1000',
    '--max-per-ip', '1000',
  ];
}

async function launch(args: string[], serverName: string, withRedis: boolean): Promise<IrcNode> {
  const r = run(serverBin, args);
  started.add(r.proc);
  const exited = r.exited.then((e) => {
    started.delete(r.proc);
    return e;
  });
  let listening: RegExpMatchArray;
  try {
    // A process that exits before listening (bad flag, Redis unreachable) fails the start at once.
    const died = exited.then((e) => {
      throw new Error(`exited (code ${e.code}, signal ${e.signal}) before listening; stdout: ${r.stdout()}; stderr: ${r.stderr()}`);
    });
    const line = r.waitForLine(/listening on 127\.0\.0\.1:(\d+)/, startTimeoutMs);
    // Whichever loses the race settles later, unobserved: mark both as handled.
    died.catch(() => {});
    line.catch(() => {});
    listening = await Promise.race([line, died]);
  } catch (err) {
    r.proc.kill('SIGKILL');
    await exited;
    throw new Error(`node ${serverName} did not start: ${(err as Error).message}`);
  }
  const index = withRedis ? Number((await r.waitForLine(/Network: node (\d+) connected/, 1_000))[1]) : null;
  return Object.assign(r, {
    port: Number(listening[1]),
    serverName,
    index,
    exited,
    alive: () => r.proc.exitCode === null && r.proc.signalCode === null,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill(signal);
      return exited;
    },
    async terminate(graceMs = 5_000) {
      if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGTERM');
      const timer = setTimeout(() => r.proc.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  });
}

/** One node of the network on `redisUrl` (null: extraArgs say where, e.g. --redis-sentinel), named `serverName`. */
export function startNode(redisUrl: string | null, serverName: string, options: NodeOptions = {}): Promise<IrcNode> {
  const args = [
    ...commonArgs(serverName),
    ...(redisUrl === null ? [] : ['--redis', redisUrl]),
    '--network', options.network ?? 'TestNet',
    '--node-timeout', String(nodeTimeoutMs),
    ...(options.extraArgs ?? []),
  ];
  return launch(args, serverName, true);
}

/** `count` nodes of one network, named n1.test, n2.test... (from `first`), started together. */
export function startNodes(redisUrl: string, count: number, options: NodeOptions & { first?: number } = {}): Promise<IrcNode[]> {
  const first = options.first ?? 1;
  return Promise.all(Array.from({ length: count }, (_, i) => startNode(redisUrl, `n${first + i}.test`, options)));
}

/** A server without --redis (the network is this one process), with the same flags otherwise. */
export function startSolo(serverName: string, options: NodeOptions = {}): Promise<IrcNode> {
  const network = options.network === undefined ? [] : ['--network', options.network];
  return launch([...commonArgs(serverName), ...network, ...(options.extraArgs ?? [])], serverName, false);
}

/** Kills (SIGKILL) every node still running and waits until each has exited. */
export async function killNodes(): Promise<void> {
  const procs = [...started];
  await Promise.all(
    procs.map(
      (proc) =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill('SIGCONT'); // in case a test froze it
          proc.kill('SIGKILL');
        }),
    ),
  );
  for (const proc of procs) started.delete(proc);
}

/** The clients a test file opens on its nodes, registered, and closed together after each test. */
export function clientPool() {
  const raws: RawIrc[] = [];
  const fws: TestClient[] = [];
  return {
    /** An irc-framework client registered on `node` as `nick` (with SASL given `account`, ...). */
    async fw(node: IrcNode, nick: string, options: Omit<ConnectOptions, 'port' | 'nick'> = {}): Promise<TestClient> {
      const c = await connectClient({ ...options, port: node.port, nick });
      fws.push(c);
      return c;
    },
    /** A raw client registered on `node` as `nick`. */
    async raw(node: IrcNode, nick: string): Promise<RawIrc> {
      const c = await connectIrc(node.port);
      raws.push(c);
      await c.register(nick);
      return c;
    },
    /** Raw clients the test connected itself (not registered), closed with the rest. */
    track(...clients: RawIrc[]): void {
      raws.push(...clients);
    },
    closeAll(): void {
      for (const c of raws.splice(0)) c.raw.socket.destroy();
      for (const c of fws.splice(0)) c.destroy();
    },
  };
}
