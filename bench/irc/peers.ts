// The servers the IRC benchmark measures (run.ts), each started the same way from the
// benchmark's point of view: a port on 127.0.0.1, its processes (to read CPU and memory from
// /proc), and a stop; every child process and temp dir is remembered until it is gone, so that
// every way out (normal end, error, SIGINT/SIGTERM) can stop it.
//   ours      our CLI, `node dist/src/cli/server.js --protocol irc`
//   bare      bareIrcRelay.ts, a naive node:net relay: the floor for Node
//   ngircd    the Debian package's C ircd, with a config written to a temp dir
//   inspircd  the Debian package's C++ ircd (3.x), with a config written to a temp dir
//   redis2    two processes of our CLI with --redis on a fresh redis-server
// Every limit that would throttle or cut the load is raised (flood control, per-IP and class caps,
// recvq), and so is the limit on a client's unread output (its sendq) unless `sendq: 'shipped'`
// asks for each server's own (the never-reader measures what that limit does).

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { defaultConfig } from '../../src/core/config.js';
import { freePort, host } from '../lib/loopback.js';
import { processTree } from '../lib/procfs.js';
import { cliScript, spawned, type RunningServer, type StopResult } from '../lib/spawn.js';
import { withTimeout } from '../lib/wait.js';
import { ircLabels as labels, type IrcKind } from './results.js';

const relayScript = fileURLToPath(new URL('./bareIrcRelay.js', import.meta.url));
const ngircdPath = '/usr/sbin/ngircd';
const inspircdPath = '/usr/sbin/inspircd';
const redisServerPath = '/usr/bin/redis-server';
const startGraceMs = 5_000;

// --- Limits on a client's unread output ----------------------------------------------------------

/** The sendq every server gets when it is raised (and ours' --sendq then). */
const raisedSendqBytes = 10_000_000;
/**
 * Each server's own limit on one client's unread output, past what the kernel holds: ours'
 * default --sendq; ngircd's write buffer, 32 KiB for a client (WRITEBUFFER_MAX_LEN, compiled in,
 * so raised or not); InspIRCd 3's <connect hardsendq> when the config leaves it out (1 MiB); the
 * bare relay has none.
 */
const shippedSendqBytes: Record<IrcKind, number | null> = {
  ours: defaultConfig.irc.sendqBytes,
  bare: null,
  ngircd: 32 * 1024,
  inspircd: 1024 * 1024,
  redis2: defaultConfig.irc.sendqBytes,
};

export type SendqChoice = 'raised' | 'shipped';

export function sendqBytesOf(kind: IrcKind, sendq: SendqChoice): number | null {
  return sendq === 'shipped' || kind === 'ngircd' || kind === 'bare' ? shippedSendqBytes[kind] : raisedSendqBytes;
}

// --- Child processes and temp dirs: remembered until they are gone ------------------------------

const children = new Set<number>();
const tempDirs = new Set<string>();

export function trackChild(pid: number | undefined): void {
  if (pid !== undefined) children.add(pid);
}

export function forgetChild(pid: number | undefined): void {
  if (pid !== undefined) children.delete(pid);
}

/** A fresh temp dir, removed by `remove` or on the way out. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(`${os.tmpdir()}/${prefix}`);
  tempDirs.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      tempDirs.delete(path);
    },
  };
}

/** Kills what is left, at once (SIGKILL, by pid, each process and what it started). */
export function killChildren(): void {
  for (const pid of children) {
    for (const p of processTree(pid).reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** A server that is remembered until it stops; `cleanUp` after its stop. */
function tracked(server: RunningServer, cleanUp: () => void = () => {}): RunningServer {
  trackChild(server.pid);
  return {
    ...server,
    stop: async () => {
      try {
        return await server.stop();
      } finally {
        forgetChild(server.pid);
        cleanUp();
      }
    },
  };
}

// --- What is installed ---------------------------------------------------------------------------

/** The first line `command args` prints, matched by `pattern` (its group 1 if it has one); null if absent or failing. */
function versionOf(path: string, args: string[], pattern: RegExp): string | null {
  if (!existsSync(path)) return null;
  try {
    const m = pattern.exec(execFileSync(path, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return m ? (m[1] ?? m[0]).trim() : null;
  } catch {
    return null;
  }
}

export const ngircdVersion = (): string | null => versionOf(ngircdPath, ['--version'], /^.+$/m);
export const inspircdVersion = (): string | null => versionOf(inspircdPath, ['--version'], /^InspIRCd-\S+/m);
export const redisVersion = (): string | null => {
  const v = versionOf(redisServerPath, ['--version'], /v=(\S+)/);
  return v ? `Redis ${v}` : null;
};

/** Why a peer is missing and how to get it (the benchmark goes on without it). */
export const installHints = {
  ngircd: `ngircd is not installed (${ngircdPath}): skipped. To compare with it: sudo apt-get install ngircd (its service need not run; the benchmark starts its own with a config in a temp dir).`,
  inspircd: `InspIRCd is not installed (${inspircdPath}): skipped. To compare with it: sudo apt-get install inspircd (its service need not run; the benchmark starts its own with a config in a temp dir).`,
  redis: `redis-server is not installed (${redisServerPath}): ours on Redis and the node-death measurement skipped (sudo apt-get install redis-server).`,
};

/**
 * The listen backlog of whatever listens on `port` (the Send-Q that `ss -ltn` shows for a
 * listening socket: the accept queue's length, after the kernel's cap net.core.somaxconn); null
 * without `ss`. ngircd's is 10 (compiled in); a SYN that finds the queue full waits 1 s.
 */
export function listenBacklog(port: number): number | null {
  try {
    const line = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const n = Number(line.split(/\s+/)[2]);
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

// --- The servers -----------------------------------------------------------------------------------

export interface PeerOptions {
  /** Node flags for ours and the bare relay (the heap probe, the CPU profiler). */
  nodeFlags?: string[];
  /** Their stdout lines after the port (the heap probe answers that way). */
  onLine?: (line: string) => void;
  sendq?: SendqChoice;
  /** Ours (one node) only: flags after the usual ones (a later flag wins), e.g. its --data-dir. */
  oursArgs?: string[];
}

/** Our flags that would otherwise throttle or cut the load (flood control, per-IP cap, queues). */
const oursArgs = [
  '--protocol', 'irc',
  '--host', host,
  '--port', '0',
  '--log-format', 'json',
  '--flood-burst', '1000',
  '--flood-rate', '1000',
  '--max-per-ip', '100000',
  '--max-connections', '20000',
  '--recvq', '1000000',
  '--shutdown-grace', '3000',
];

/** `--ours-args`: flags added to every server of ours this run starts (an A/B of one setting). */
let extraOursArgs: string[] = [];
export function setExtraOursArgs(args: string[]): void {
  extraOursArgs = args;
}

let dataDir: string | null = null;

/** One temporary --data-dir for every server of ours this run starts, removed at exit. */
function benchDataDir(): string {
  if (dataDir === null) {
    const dir = (dataDir = mkdtempSync(`${os.tmpdir()}/bench-irc-data-`));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dataDir;
}

/** Our CLI in IRC mode; `extraArgs` after the usual ones (a later flag wins). */
async function startOurs(extraArgs: string[], o: PeerOptions): Promise<RunningServer> {
  const portOf = (line: string): string | undefined => {
    if (!line.includes('server.listening')) return undefined;
    try {
      const port = (JSON.parse(line) as { port?: unknown }).port;
      return typeof port === 'number' && port > 0 ? String(port) : undefined;
    } catch {
      return undefined;
    }
  };
  const sendq = ['--sendq', String(sendqBytesOf('ours', o.sendq ?? 'raised'))];
  // Its store in a directory of the benchmark's own, not ./data where the bench was started.
  const store = ['--data-dir', benchDataDir()];
  const args = [...(o.nodeFlags ?? []), cliScript, ...oursArgs, ...store, ...sendq, ...extraOursArgs, ...extraArgs];
  return tracked(await spawned(labels.ours, process.execPath, args, portOf, startGraceMs, o.onLine));
}

/**
 * ngircd's config: loopback only; no DNS, ident or PAM lookups; no connection, per-IP or join
 * caps; penalties (its flood control) off; PING far away. ngircd drops root for `nobody`, so the
 * directory must be readable and the pid file's directory writable by it.
 */
function ngircdConfig(dir: string, port: number): string {
  mkdirSync(`${dir}/run`);
  chmodSync(dir, 0o755);
  chmodSync(`${dir}/run`, 0o777);
  const file = `${dir}/ngircd.conf`;
  writeFileSync(
    file,
    [
      '[Global]',
      '  Name = irc.bench.local',
      '  Info = irc fan-out benchmark',
      `  Listen = ${host}`,
      `  Ports = ${port}`,
      '  MotdPhrase = "bench"',
      `  PidFile = ${dir}/run/ngircd.pid`,
      '[Limits]',
      '  MaxConnections = 0',
      '  MaxConnectionsIP = 0',
      '  MaxJoins = 0',
      '  MaxNickLength = 30',
      '  MaxPenaltyTime = 0',
      '  PingTimeout = 600',
      '  PongTimeout = 600',
      '[Options]',
      '  DNS = no',
      '  Ident = no',
      '  PAM = no',
      `  IncludeDir = ${dir}/conf.d`,
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o644);
  return file;
}

/**
 * InspIRCd 3's config: one listener on loopback; one connect class for everyone with no per-IP
 * (localmax, globalmax) or class (limit) cap and no warning at them, no DNS lookups
 * (resolvehostnames), flood control out of reach (threshold and commandrate far above the load,
 * fakelag off), recvq raised, PING and the registration timeout far away. No module is loaded
 * beyond the core ones it always loads (so no ident lookups either). The listen backlog is left at
 * its default, SOMAXCONN (4096 with this glibc; the kernel caps it at net.core.somaxconn).
 * It logs nothing per connection: no <log> tag.
 */
function inspircdConfig(dir: string, port: number, sendqBytes: number): string {
  writeFileSync(`${dir}/motd.txt`, 'bench\n');
  const file = `${dir}/inspircd.conf`;
  writeFileSync(
    file,
    [
      '<server name="irc.bench.local" description="irc fan-out benchmark" network="bench">',
      `<bind address="${host}" port="${port}" type="clients">`,
      `<connect allow="*" timeout="600" pingfreq="600" hardsendq="${sendqBytes}" softsendq="${sendqBytes}" recvq="1000000"` +
        ' threshold="1000000" commandrate="1000000" fakelag="no" localmax="100000" globalmax="100000" limit="100000"' +
        ' maxconnwarn="no" maxchans="100" resolvehostnames="no">',
      `<files motd="${dir}/motd.txt">`,
      `<pid file="${dir}/inspircd.pid">`,
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * A C server from a config written to a fresh temp dir, on a free port, in the foreground; it
 * serves once `ready` matches one of its stdout lines.
 */
async function startConfigured(kind: 'ngircd' | 'inspircd', path: string, config: (dir: string, port: number) => string[], ready: RegExp): Promise<RunningServer> {
  const dir = tempDir(`irc-fanout-${kind}-`);
  try {
    const port = await freePort();
    const args = config(dir.path, port);
    const server = await spawned(labels[kind], path, args, (line) => (ready.test(line) ? String(port) : undefined), startGraceMs);
    return tracked(server, () => dir.remove());
  } catch (err) {
    dir.remove();
    throw err;
  }
}

const startNgircd = (): Promise<RunningServer> =>
  // It logs `Now listening on [127.0.0.1]:PORT`, then, a few seconds later on this machine (it
  // looks its own host name up), `Server "..." ready.`: only then does it serve clients.
  startConfigured('ngircd', ngircdPath, (dir, port) => ['-n', '-f', ngircdConfig(dir, port)], / ready\.$/);

const startInspircd = (sendqBytes: number): Promise<RunningServer> =>
  // --nofork keeps it in the foreground, where its stdout says when it serves; as root it wants
  // --runasroot (it would rather drop to a user its config names).
  startConfigured(
    'inspircd',
    inspircdPath,
    (dir, port) => ['--nofork', `--config=${inspircdConfig(dir, port, sendqBytes)}`, ...(process.getuid?.() === 0 ? ['--runasroot'] : [])],
    /^InspIRCd is now running as /,
  );

/** One command's counters in `INFO commandstats`. */
export type CommandStats = Record<string, { calls: number; usec: number }>;

export interface RedisServer {
  url: string;
  pid: number;
  /** `INFO commandstats` now: calls and µs per command since Redis started. */
  commandStats(): Promise<CommandStats>;
  stop(): Promise<void>;
}

/**
 * A fresh redis-server on a free loopback port, no persistence (nothing to save, nothing left
 * behind), and one connection of ours for INFO.
 */
async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const server = tracked(
    await spawned(
      'redis-server',
      redisServerPath,
      ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no'],
      (line) => (line.includes('Ready to accept connections') ? String(port) : undefined),
      startGraceMs,
    ),
  );
  const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // A failed INFO rejects its promise; the client's own 'error' events would otherwise throw.
  client.on('error', () => {});
  try {
    await withTimeout(client.connect(), startGraceMs, 'redis-server connect');
  } catch (err) {
    client.disconnect();
    await server.stop();
    throw err;
  }
  return {
    url: `redis://${host}:${port}`,
    pid: server.pid,
    async commandStats() {
      const text = await withTimeout(client.info('commandstats'), 5_000, 'redis INFO');
      const stats: CommandStats = {};
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
        // The harness's own INFO is not the server's work.
        if (m[1] !== 'info') stats[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
      }
      return stats;
    },
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}

/** Two stop results as one: the slower, and whatever went wrong in either. */
function bothStopped(a: StopResult, b: StopResult): StopResult {
  return {
    ms: Math.max(a.ms, b.ms),
    exitCode: a.exitCode !== 0 ? a.exitCode : b.exitCode,
    signal: a.signal ?? b.signal,
    killed: a.killed || b.killed,
  };
}

/** Two nodes of our CLI on a fresh Redis, named a.bench.local and b.bench.local. */
export async function startTwoNodes(extraArgs: string[] = [], o: PeerOptions = {}): Promise<{ a: RunningServer; b: RunningServer; redis: RedisServer }> {
  const redis = await startRedis();
  const started: RunningServer[] = [];
  try {
    for (const name of ['a', 'b']) started.push(await startOurs(['--redis', redis.url, '--server-name', `${name}.bench.local`, ...extraArgs], o));
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    await redis.stop();
    throw err;
  }
  return { a: started[0]!, b: started[1]!, redis };
}

/** A server under test: where clients connect, its processes, and (redis2) its Redis. */
export interface UnderTest {
  /** One port, or one per node: client i goes to ports[i mod n]. */
  ports: number[];
  /** Every process of the server (both nodes for redis2), not Redis. */
  pids(): number[];
  redis: RedisServer | null;
  /** Stops it all (nodes before their Redis) and forgets the processes. */
  stop(): Promise<StopResult>;
}

export async function startUnderTest(kind: IrcKind, o: PeerOptions = {}): Promise<UnderTest> {
  if (kind === 'redis2') {
    const { a, b, redis } = await startTwoNodes([], o);
    return {
      ports: [a.port, b.port],
      pids: () => [...a.pids(), ...b.pids()],
      redis,
      stop: async () => {
        try {
          // Both at once; Redis after them, since a leaving node quits its users through it.
          const [x, y] = await Promise.all([a.stop(), b.stop()]);
          return bothStopped(x, y);
        } finally {
          await redis.stop();
        }
      },
    };
  }
  const relayPort = (line: string): string | undefined => /^listening (\d+)$/.exec(line)?.[1];
  const server =
    kind === 'ours'
      ? await startOurs(o.oursArgs ?? [], o)
      : kind === 'bare'
        ? tracked(await spawned(labels.bare, process.execPath, [...(o.nodeFlags ?? []), relayScript, '--host', host, '--port', '0'], relayPort, startGraceMs, o.onLine))
        : kind === 'ngircd'
          ? await startNgircd()
          : await startInspircd(sendqBytesOf('inspircd', o.sendq ?? 'raised')!);
  return { ports: [server.port], pids: () => server.pids(), redis: null, stop: () => server.stop() };
}

/** The kinds that run on Node (the heap probe and the CPU profiler apply to them). */
export const isNodeKind = (kind: IrcKind): boolean => kind === 'ours' || kind === 'bare' || kind === 'redis2';
