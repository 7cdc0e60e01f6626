// A node's death, for run.ts (`npm run bench:irc -- --only node-death`): two nodes of
// our CLI on a fresh Redis with a short --node-timeout; an observer on node A and deathClients on
// node B in one channel; node B gets a signal (SIGKILL: nobody says goodbye; SIGTERM: it quits its
// users itself), and the time runs until the observer has seen each of their QUITs. The clients
// live in the benchmark's own process: they only join and wait.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { defaultConfig } from '../../src/core/config.js';
import { host } from '../lib/loopback.js';
import { sleep, withTimeout } from '../lib/wait.js';
import { connectTimeoutMs } from './measure.js';
import { startTwoNodes } from './peers.js';
import type { IrcDeath, IrcDeathRun } from './results.js';

/** --node-timeout of the two nodes here (the default is defaultConfig.irc.nodeTimeoutMs). */
const deathNodeTimeoutMs = 2_000;
const deathClients = 50;
const deathChannel = '#death';
/** Registrations in flight at once on node B. */
const deathJoinBatch = 10;
/** Past timeout + one beat, how long the observer waits for the last QUIT before giving up. */
const deathMarginMs = 15_000;
/** A probe's partial line longer than this closes it (it is not IRC). */
const maxLineBytes = 8 * 1024;

/** The measurement's settings and its runs, as the JSON keeps them. */
export function nodeDeath(runs: IrcDeathRun[]): IrcDeath {
  return { nodeTimeoutMs: deathNodeTimeoutMs, heartbeatMs: defaultConfig.irc.nodeHeartbeatMs, defaultNodeTimeoutMs: defaultConfig.irc.nodeTimeoutMs, clients: deathClients, runs };
}

/** An IRC client of this process: registers as `nick`, joins `channel`; every line goes to `onLine`. */
async function probeClient(port: number, nick: string, channel: string, onLine: (line: string) => void = () => {}): Promise<net.Socket> {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  let partial = '';
  let joined = false;
  const ready = new Promise<net.Socket>((resolve, reject) => {
    socket.on('connect', () => socket.write(`NICK ${nick}\r\nUSER u 0 * :node death probe\r\n`));
    socket.on('data', (chunk: string) => {
      partial += chunk;
      for (let lf = partial.indexOf('\n'); lf !== -1; lf = partial.indexOf('\n')) {
        const line = partial.slice(0, lf).replace(/\r$/, '');
        partial = partial.slice(lf + 1);
        if (line.startsWith('PING')) {
          socket.write(`PONG${line.slice(4)}\r\n`);
          continue;
        }
        const numeric = line.split(' ', 3)[1];
        if (!joined && (numeric === '376' || numeric === '422')) socket.write(`JOIN ${channel}\r\n`);
        else if (!joined && numeric === '366') {
          joined = true;
          resolve(socket);
        } else if (!joined && numeric !== undefined && /^4\d\d$/.test(numeric)) reject(new Error(`${nick}: ${line}`));
        onLine(line);
      }
      if (partial.length > maxLineBytes) socket.destroy();
    });
    socket.on('error', (err) => reject(err));
    socket.on('close', () => reject(new Error(`${nick}: closed before joining ${channel}`)));
  });
  try {
    return await withTimeout(ready, connectTimeoutMs, `${nick} join`);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * One death. `delayMs` after every client has joined, the signal: the runs spread it over one
 * beat, or every run would hit the same point of node B's beat (setting up takes the same time).
 */
export async function nodeDeathOnce(signal: IrcDeathRun['signal'], delayMs: number): Promise<IrcDeathRun> {
  const { a, b, redis } = await startTwoNodes(['--node-timeout', String(deathNodeTimeoutMs)]);
  const sockets: net.Socket[] = [];
  try {
    const victims = Array.from({ length: deathClients }, (_, i) => `d${i}`);
    const joinedSeen = new Set<string>();
    const quitAt = new Map<string, number>();
    let reason: string | null = null;
    let signalledAt = Number.NaN;
    let allJoined = (): void => {};
    let allQuit = (): void => {};
    const joinedAll = new Promise<void>((resolve) => (allJoined = resolve));
    const quitAll = new Promise<void>((resolve) => (allQuit = resolve));
    const observer = await probeClient(a.port, 'observer', deathChannel, (line) => {
      const m = /^:([^!\s]+)\S* (JOIN|QUIT)(?: :?(.*))?$/.exec(line);
      if (!m || !m[1]!.startsWith('d')) return;
      if (m[2] === 'JOIN') {
        joinedSeen.add(m[1]!);
        if (joinedSeen.size === deathClients) allJoined();
      } else if (!quitAt.has(m[1]!)) {
        quitAt.set(m[1]!, performance.now() - signalledAt);
        reason ??= m[3] ?? '';
        if (quitAt.size === deathClients) allQuit();
      }
    });
    sockets.push(observer);
    for (let i = 0; i < victims.length; i += deathJoinBatch) {
      sockets.push(...(await Promise.all(victims.slice(i, i + deathJoinBatch).map((nick) => probeClient(b.port, nick, deathChannel)))));
    }
    await withTimeout(joinedAll, connectTimeoutMs, `the observer seeing ${deathClients} JOINs`);
    await sleep(delayMs);
    // No QUIT may count before the signal: any seen so far is a failure of the setup.
    if (quitAt.size > 0) throw new Error(`${quitAt.size} QUITs before the signal`);
    signalledAt = performance.now();
    let exitMs: number | null = null;
    if (signal === 'SIGKILL') {
      process.kill(b.pid, 'SIGKILL');
      await b.stop();
      exitMs = performance.now() - signalledAt;
    }
    const exited =
      signal === 'SIGTERM'
        ? b.stop().then((r) => {
            exitMs = r.ms;
            return r;
          })
        : null;
    const boundMs = deathNodeTimeoutMs + defaultConfig.irc.nodeHeartbeatMs + deathMarginMs;
    await withTimeout(quitAll, boundMs, `the observer seeing ${deathClients} QUITs`).catch(() => undefined);
    await exited;
    const times = [...quitAt.values()];
    return {
      signal,
      delayMs,
      clients: deathClients,
      quits: quitAt.size,
      firstQuitMs: times.length > 0 ? Math.min(...times) : null,
      allQuitsMs: quitAt.size === deathClients ? Math.max(...times) : null,
      exitMs,
      reason,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
}
