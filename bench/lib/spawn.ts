// A server spawned as a child process that prints its port on stdout, seen the same way whatever
// it is written in: a port, the process tree to read CPU and memory from (/proc), and a stop that
// reports how long the server took to exit and whether it had to be killed.

import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { processTree } from './procfs.js';
import { root } from './resultsFile.js';
import { withTimeout } from './wait.js';

/** Our CLI as `npm run build` leaves it. */
export const cliScript = `${root}dist/src/cli/server.js`;

const startTimeoutMs = 20_000;
/** Extra time, past the server's own grace period, for its process to exit after SIGTERM. */
const exitMarginMs = 10_000;

export interface StopResult {
  /** From the stop request (SIGTERM or IPC) to the exit of the server's root process. */
  ms: number;
  exitCode: number | null;
  signal: string | null;
  /** It had to be killed. */
  killed: boolean;
}

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** The server's processes now (root and descendants). */
  pids(): number[];
  stop(): Promise<StopResult>;
}

/**
 * Spawns a server that prints its port on a line of stdout; `portOf` finds it. Output after
 * that goes to `onLine` (it is read, so the server never blocks on a full pipe). `stop` sends
 * SIGTERM and, after `graceMs` and a margin, kills the whole tree.
 */
export async function spawned(
  name: string,
  command: string,
  args: string[],
  portOf: (line: string) => string | undefined,
  graceMs: number,
  onLine: (line: string) => void = () => {},
): Promise<RunningServer> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (stderr.length < 20) stderr.push(line);
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      let found = false;
      lines.on('line', (line) => {
        onLine(line);
        if (found) return;
        const p = portOf(line);
        if (p !== undefined) {
          found = true;
          resolve(Number(p));
        }
      });
      void exited.then(({ code, signal }) =>
        reject(new Error(`${name} exited before listening (code ${code}, signal ${signal}): ${stderr.join(' | ')}`)),
      );
    }),
    startTimeoutMs,
    `${name} start`,
  ).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const pid = child.pid ?? -1;
  return {
    name,
    port,
    pid,
    pids: () => processTree(pid),
    stop: async () => {
      const t0 = performance.now();
      if (child.exitCode !== null || child.signalCode !== null) {
        return { ms: 0, exitCode: child.exitCode, signal: child.signalCode, killed: false };
      }
      const tree = processTree(pid);
      child.kill('SIGTERM');
      let killed = false;
      let exit: { code: number | null; signal: string | null };
      try {
        exit = await withTimeout(exited, graceMs + exitMarginMs, `${name} stop`);
      } catch {
        killed = true;
        // Our own processes, by pid: the root and whatever it had started.
        for (const p of tree) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        exit = await exited;
      }
      return { ms: performance.now() - t0, exitCode: exit.code, signal: exit.signal, killed };
    },
  };
}
