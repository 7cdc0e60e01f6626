// The password-hashing threads: maxConcurrentPasswordHashes worker threads (hashWorker.ts),
// each at the lowest scheduling priority, started on the first hash. Hashes wait their turn in
// arrival order. Libuv's own pool would run four at once at normal priority: a storm of 300
// logins then took both cores of a 2-core machine from the event loop and tripled everyone
// else's delivery p99 (docs/benchmarks.md, login storm).

import { Worker } from 'node:worker_threads';
import { maxConcurrentPasswordHashes } from '../core/config.js';
import { builtWorkerUrl } from '../core/workerFile.js';
import type { HashAnswer, HashJob } from './hashWorker.js';

type Job = HashJob extends infer J ? (J extends HashJob ? Omit<J, 'id'> : never) : never;

interface Waiting {
  job: Job;
  resolve: (key: Buffer) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  current: (Waiting & { id: number }) | null;
}

const threads: Thread[] = [];
const queue: Waiting[] = [];
let nextId = 1;

function start(): Thread {
  const worker = new Worker(builtWorkerUrl(import.meta.url, 'hashWorker'));
  const thread: Thread = { worker, current: null };
  worker.on('message', (answer: HashAnswer) => {
    const current = thread.current;
    if (!current || current.id !== answer.id) return;
    thread.current = null;
    if ('key' in answer) current.resolve(Buffer.from(answer.key.buffer, answer.key.byteOffset, answer.key.byteLength));
    else current.reject(new Error(`password hash failed: ${answer.error}`));
    next(thread);
  });
  // A thread that dies fails its hash and is replaced; the queue goes on.
  worker.on('error', (err) => {
    thread.current?.reject(err);
    thread.current = null;
    threads.splice(threads.indexOf(thread), 1);
    if (queue.length > 0) next(start());
  });
  threads.push(thread);
  return thread;
}

// A thread keeps the process alive while it hashes (`hash-password` waits for its answer) and
// never while idle (a server that stops is not held up by its hashing threads).
function next(thread: Thread): void {
  const waiting = queue.shift();
  if (!waiting) {
    thread.worker.unref();
    return;
  }
  thread.worker.ref();
  thread.current = { ...waiting, id: nextId++ };
  thread.worker.postMessage({ ...waiting.job, id: thread.current.id });
}

/** Computes a hash on a hashing thread, when one is free. */
export function hashOnThread(job: Job): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    queue.push({ job, resolve, reject });
    const idle = threads.find((t) => t.current === null) ?? (threads.length < maxConcurrentPasswordHashes ? start() : null);
    if (idle) next(idle);
  });
}

/** Hashes running and waiting for a thread, for tests and metrics. */
export function hashQueue(): { running: number; waiting: number } {
  return { running: threads.filter((t) => t.current !== null).length, waiting: queue.length };
}
