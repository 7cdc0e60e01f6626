// Runs the built CLI (dist/, what `npm start` runs) as a real child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const serverBin = `${root}dist/src/cli/server.js`;
export const clientBin = `${root}dist/src/cli/client.js`;

export interface Running {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

let dataDir: string | null = null;

/**
 * The --data-dir of IRC servers this test process starts without one (one for the process,
 * removed at exit), so that no test writes the store into the project's own data/.
 */
export function testDataDir(): string {
  if (dataDir === null) {
    const dir = (dataDir = mkdtempSync(path.join(tmpdir(), 'test-data-')));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dataDir;
}

export function run(bin: string, args: string[], input?: string): Running {
  const needsStore = bin === serverBin && args.includes('irc') && !args.includes('--data-dir') && !args.includes('--database');
  const full = needsStore ? [...args, '--data-dir', testDataDir()] : args;
  const proc = spawn(process.execPath, [bin, ...full], { stdio: ['pipe', 'pipe', 'pipe'] });
  if (input === undefined) proc.stdin!.end();
  else proc.stdin!.end(input);
  return watch(proc);
}

/** Collects a child's output and exit, with a wait for a stdout line. */
export function watch(proc: ChildProcess): Running {
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLine(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${pattern}; stdout: ${out}; stderr: ${err}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** `xstate-tcp-chat hash-password` with `password` and a newline on stdin: an operator's hash. */
export async function hashOf(password: string): Promise<string> {
  const r = run(serverBin, ['hash-password'], `${password}\n`);
  const { code } = await r.exited;
  if (code !== 0) throw new Error(`hash-password exited ${code}: ${r.stderr()}`);
  return r.stdout().trim();
}

/** Starts the server CLI on a free port and waits for its listening line. */
export async function runServer(args: string[] = []): Promise<Running & { port: number }> {
  const r = run(serverBin, ['--host', '127.0.0.1', '--port', '0', ...args]);
  const m = await r.waitForLine(/listening on 127\.0\.0\.1:(\d+)/);
  return Object.assign(r, { port: Number(m[1]) });
}

/**
 * The IRC servers of one test file: the CLI as `npm start` runs it, each with its store in a
 * temporary --data-dir (or one given, to start again on the same store), flood control out of
 * the way. close() kills every one and removes the directories.
 */
export function ircServers(prefix: string): {
  tempDir(): string;
  start(dataDir?: string, extra?: string[]): Promise<Running & { port: number }>;
  close(): void;
} {
  const dirs: string[] = [];
  const running: Running[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  return {
    tempDir,
    async start(dataDir = tempDir(), extra = []) {
      const s = await runServer(['--protocol', 'irc', '--data-dir', dataDir, '--flood-burst', '1000', '--flood-rate', '1000', ...extra]);
      running.push(s);
      return s;
    },
    close() {
      for (const s of running.splice(0)) s.proc.kill('SIGKILL');
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
