// What a benchmark ran on, for its report: CPUs, memory, kernel, runtimes and the limits that
// shape the idle scenarios (ports per source address, descriptors per process).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ephemeralPortCount } from './procfs.js';
import { root } from './resultsFile.js';

export interface Machine {
  nproc: string;
  cpu: string;
  memory: string;
  kernel: string;
  node: string;
  python: string | null;
  xstate: string;
  /** connect() ports per source address (ip_local_port_range). */
  ephemeralPorts: number;
  /** Soft limit on open descriptors per process (ulimit -n). */
  descriptorLimit: string;
}

function run(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** `python3 --version`, or null without python3 (the baselines and clients written in it are skipped). */
export function pythonAvailable(): string | null {
  return run('python3', ['--version']);
}

export function describeMachine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // os.cpus() it is.
  }
  let xstate = 'unknown';
  try {
    xstate = (JSON.parse(readFileSync(`${root}node_modules/xstate/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    // Reported as unknown.
  }
  return {
    nproc: run('nproc', []) ?? String(os.availableParallelism()),
    cpu,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    python: pythonAvailable(),
    xstate,
    ephemeralPorts: ephemeralPortCount(),
    descriptorLimit: run('sh', ['-c', 'ulimit -n']) ?? 'unknown',
  };
}
