// A throwaway redis-server for tests: a free port on 127.0.0.1, persistence off (so a restart
// comes back empty, as a Redis that lost its data does), ready once PING answers. Killed when the
// test process exits even if a test forgot to stop it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';

export interface RedisServer {
  port: number;
  url: string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Sends a signal (SIGKILL by default; SIGSTOP freezes it without closing its sockets). */
  kill(signal?: NodeJS.Signals): void;
  /** Stops it if running and starts a new, empty one on the same port. */
  restart(): Promise<void>;
}

/** How long a new redis-server may take to answer PING. */
const startTimeoutMs = 10_000;
/** How long a stopped redis-server may take to exit before it is killed. */
const stopGraceMs = 5_000;

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

/** One PING over a raw socket: true when it answered +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * `extraArgs`: more redis-server arguments (`--replicaof 127.0.0.1 <port>` for a replica);
 * `config`: a config file given first (a Sentinel's, with `--sentinel` among extraArgs).
 */
export async function startRedis(options: { extraArgs?: string[]; config?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  // Its working directory: a replica writes the primary's RDB to disk when it syncs, whatever
  // --save says, and it must not land in the project (a dump.rdb was once committed that way).
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-test-'));
  let child: ChildProcess | null = null;
  let output = '';
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  async function launch(): Promise<void> {
    output = '';
    // Again after a stop: a test may start the same server once more.
    mkdirSync(dir, { recursive: true });
    const base = options.config === undefined ? [] : [options.config];
    const proc = spawn('redis-server', [...base, '--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir, ...(options.extraArgs ?? [])], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let failure: Error | null = null;
    proc.once('error', (err: NodeJS.ErrnoException) => {
      failure = err.code === 'ENOENT' ? new Error('redis-server not found: install it (apt-get install redis-server)') : err;
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
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}:\n${output}`);
      if (await ping(port)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING on port ${port} within ${startTimeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function halt(): Promise<void> {
    const proc = child;
    if (!proc) return;
    child = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT'); // in case a test froze it
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), stopGraceMs);
    await exited(proc);
    clearTimeout(timer);
  }

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await halt();
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
    kill(signal = 'SIGKILL') {
      child?.kill(signal);
    },
    async restart() {
      await halt();
      await launch();
    },
  };
}
