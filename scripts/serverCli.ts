// The built server CLI as the screenshot scripts run it (scripts/liveViewShot.ts,
// scripts/webClientShot.ts): a child process, and what its startup lines say.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from './statechart.js';

/** Starts dist/src/cli/server.js with `args`; its stdout is piped, its stderr shown. */
export function spawnServer(args: string[]): { server: ChildProcess; exited: Promise<unknown> } {
  const server = spawn(process.execPath, [path.join(projectRoot(), 'dist/src/cli/server.js'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { server, exited: once(server, 'exit') };
}

/**
 * Reads the server's startup lines until each pattern has matched one, and gives what each
 * captured first (its group 1); then reads on, or a full pipe would stall the server's logging.
 */
export async function startupOf<K extends string>(server: ChildProcess, patterns: Record<K, RegExp>): Promise<Record<K, string>> {
  const found: Partial<Record<K, string>> = {};
  const keys = Object.keys(patterns) as K[];
  for await (const line of createInterface({ input: server.stdout! })) {
    for (const key of keys) found[key] ??= patterns[key].exec(line)?.[1];
    if (keys.every((key) => found[key] !== undefined)) {
      server.stdout!.resume();
      return found as Record<K, string>;
    }
  }
  throw new Error('the server exited before it was listening (its stderr is above)');
}
