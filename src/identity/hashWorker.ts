// A password-hashing thread (see hashThreads.ts): it lowers its own scheduling priority to the
// lowest (nice 19; on Linux a thread's nice value is its own) and then computes scrypt and
// PBKDF2 one at a time. When the machine is busy the kernel runs the event loop first, so a
// login storm slows logins down rather than everyone's chat.

import { pbkdf2Sync, scryptSync } from 'node:crypto';
import { constants, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';

export type HashJob =
  | { id: number; kind: 'scrypt'; password: string; salt: Uint8Array; length: number; options: { N: number; r: number; p: number; maxmem: number } }
  | { id: number; kind: 'pbkdf2'; password: string; salt: Uint8Array; iterations: number; length: number };

export type HashAnswer = { id: number; key: Uint8Array } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('hashWorker.ts runs as a worker thread (see hashThreads.ts)');

try {
  // pid 0: the calling thread. Where it is not allowed, hashing still works at normal priority.
  setPriority(0, constants.priority.PRIORITY_LOW);
} catch {
  // keep the default priority
}

port.on('message', (job: HashJob) => {
  try {
    const key =
      job.kind === 'scrypt'
        ? scryptSync(job.password, job.salt, job.length, job.options)
        : pbkdf2Sync(job.password, job.salt, job.iterations, job.length, 'sha256');
    port.postMessage({ id: job.id, key } satisfies HashAnswer);
  } catch (err) {
    port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies HashAnswer);
  }
});
