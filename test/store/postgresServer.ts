// A throwaway PostgreSQL for tests: a new cluster in a temporary directory (initdb), one
// postmaster on a free port of 127.0.0.1 with durability off (fsync off: a test never survives a
// power cut), ready once a client gets an answer. Each test takes a database of its own
// (`freshDatabase`). It can be shut down and started again on the same port and data (an outage
// the store must live through), and is killed, its directory removed, when the test process exits
// even if a test forgot to stop it.
//
// PostgreSQL refuses to run as root, so as root the binaries run as the `postgres` user (the
// Debian package creates it) by spawning with that uid and gid: the child is the postmaster
// itself, so signals reach it directly, which they would not through `su` or `runuser`.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export interface PgServer {
  port: number;
  /** The maintenance database, as the superuser `postgres` (no password: trust). */
  url: string;
  /** Creates a new, empty database and gives its URL. */
  freshDatabase(): Promise<string>;
  /** Fast shutdown (every session is ended with 57P01, as an operator's restart does); keeps the data. */
  shutdown(): Promise<void>;
  /** Starts it again after `shutdown`, on the same port and data directory; running already, does nothing. */
  start(): Promise<void>;
  /** Sends a signal to the postmaster and all its backends (SIGSTOP freezes it without closing a socket). */
  signal(signal: NodeJS.Signals): void;
  /** Shuts it down for good and removes its directory. */
  stop(): Promise<void>;
}

/** How long initdb may take to create the cluster. */
const initTimeoutMs = 60_000;
/** How long a new postmaster may take to answer a query. */
const startTimeoutMs = 20_000;
/** How long a fast shutdown may take before the postmaster is killed. */
const stopGraceMs = 5_000;

const run = promisify(execFile);

/** The directory of initdb and postgres: PATH first, then Debian's /usr/lib/postgresql/<v>/bin, newest first. */
function binDir(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    // A symlink into the versioned directory (as /usr/local/bin/initdb may be) leads to its siblings.
    if (existsSync(path.join(dir, 'initdb'))) return path.dirname(realpathSync(path.join(dir, 'initdb')));
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const dir = path.join(root, version, 'bin');
    if (existsSync(path.join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL not found (no initdb on PATH or in /usr/lib/postgresql/*/bin): run scripts/install-test-deps.sh');
}

/** Whom the binaries run as: the `postgres` user when we are root, else ourselves. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, and PostgreSQL refuses root: create a `postgres` user (the Debian package does)');
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One query on a new connection: true when it answered. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The processes whose parent is `pid` (PostgreSQL's backends), from /proc: Linux only, as these tests are. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return children;
}

/**
 * Signals the postmaster and every backend: each backend calls setsid(), so a process group
 * signal would miss them. One that has already exited is no error.
 */
function signalAll(pid: number, signal: NodeJS.Signals): void {
  for (const target of [pid, ...childrenOf(pid)]) {
    try {
      process.kill(target, signal);
    } catch {
      // ESRCH: gone already.
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startPostgres(): Promise<PgServer> {
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pg-test-'));
  const data = path.join(dir, 'data');
  let child: ChildProcess | null = null;
  let output = '';
  let databases = 0;
  const killOnExit = (): void => {
    if (child?.pid) signalAll(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  // Everything after this point removes the directory if it fails.
  let port = 0;
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    const initdb = ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync'];
    await run(path.join(bin, 'initdb'), initdb, { cwd: dir, timeout: initTimeoutMs, ...user }).catch((err: { stderr?: string }) => {
      throw new Error(`initdb failed:\n${err.stderr ?? String(err)}`);
    });
    port = await freePort();
  } catch (err) {
    killOnExit();
    process.off('exit', killOnExit);
    throw err;
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  async function launch(): Promise<void> {
    // Already running: a second postmaster would only fail on the data directory's lock.
    if (child && child.exitCode === null && child.signalCode === null) return;
    output = '';
    const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'];
    args.push('-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    const proc = spawn(path.join(bin, 'postgres'), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...user });
    child = proc;
    let failure: Error | null = null;
    proc.once('error', (err) => {
      failure = err;
    });
    // Only the last few KiB, for the error message if it never answers.
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4096);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (failure) throw failure;
      if (proc.exitCode !== null) throw new Error(`postgres exited with ${proc.exitCode}:\n${output}`);
      if (await answers(url)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`postgres did not answer on port ${port} within ${startTimeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function halt(): Promise<void> {
    const proc = child;
    if (!proc?.pid) return;
    child = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    signalAll(proc.pid, 'SIGCONT'); // in case a test froze it
    proc.kill('SIGINT'); // fast shutdown: end every session, checkpoint, exit
    const timer = setTimeout(() => signalAll(proc.pid!, 'SIGKILL'), stopGraceMs);
    await exited(proc);
    clearTimeout(timer);
  }

  try {
    await launch();
  } catch (err) {
    await halt();
    killOnExit();
    process.off('exit', killOnExit);
    throw err;
  }
  return {
    port,
    url,
    async freshDatabase() {
      const name = `t_${++databases}`;
      const admin = new pg.Client({ connectionString: url });
      admin.on('error', () => {});
      try {
        await admin.connect();
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end().catch(() => {});
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    shutdown: halt,
    start: launch,
    signal(signal) {
      if (child?.pid) signalAll(child.pid, signal);
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', killOnExit);
    },
  };
}
