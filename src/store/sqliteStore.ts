// The embedded store: SQLite in one file of --data-dir. Writes (and the migration at open) run on
// a worker thread (sqliteWorker.ts), one at a time, in order, so that no commit, however slow
// the disk, blocks the event loop; so does every history call (sqliteHistory.ts), its range
// reads included. The other reads are point lookups by key: they run here, on a read-only
// connection, a few µs each (WAL: a reader never waits for the writer, and sees every write
// whose answer has come back); one that fails (the file busy in a recovery, say) is asked of the
// worker instead. The file is created 0600 (the directory 0700): it holds password hashes.
// Several processes on one machine may open the same file (WAL; a second node started with the
// same --data-dir shares its accounts).

import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ChatError } from '../core/errors.js';
import { builtWorkerUrl } from '../core/workerFile.js';
import Database from 'better-sqlite3';
import type { HistoryStore } from '../history/history.js';
import { rangeMethods } from './historyRange.js';
import type { SqliteHistory } from './sqliteHistory.js';
import { SqliteReads, type SqliteOps } from './sqliteOps.js';
import type { WorkerAnswer, WorkerCall } from './sqliteWorker.js';
import type { Store } from './store.js';

/** The database's file name inside --data-dir. */
export const sqliteFileName = 'xstate-tcp-chat.sqlite';

/**
 * SQLite's result codes that mean the store cannot do its job right now (full or failing
 * disk, a lock held too long, a read-only or vanished file), as opposed to a bug in a query:
 * these reach the client as "try again later" (STORE_UNAVAILABLE).
 */
const unavailableCodes = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|NOMEM|CORRUPT|NOTADB|PERM|PROTOCOL)/;

/**
 * mkdir -p, one level at a time. Node 20's recursive mkdirSync loops for ever under /proc (each
 * mkdir there says ENOENT, its parent's says EEXIST, and it tries the child again), so a
 * `--data-dir /proc/x` hung the server at 100 % CPU with no output.
 */
function makeDirs(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    makeDirs(parent);
    // The parent exists now (or already did, and this ENOENT was the filesystem's own answer:
    // then this second try fails and says so).
    mkdirSync(dir, { mode: 0o700 });
  }
}

/** The file, created 0600 if new, in a directory created 0700 if new. */
function prepareFile(dataDir: string): string {
  try {
    makeDirs(path.resolve(dataDir));
    const file = path.join(dataDir, sqliteFileName);
    try {
      closeSync(openSync(file, 'wx', 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return file;
  } catch (err) {
    throw new ChatError('STORE_UNAVAILABLE', `cannot create the store in ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/** Opens (creating and migrating if needed) the store in `dataDir`; rejects with STORE_UNAVAILABLE. */
export async function openSqliteStore(dataDir: string): Promise<Store> {
  const file = prepareFile(dataDir);
  const worker = new Worker(builtWorkerUrl(import.meta.url, 'sqliteWorker'), { workerData: { file } });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let down: string | null = null;
  let closing = false;

  const fail = (why: string): void => {
    if (down !== null) return;
    down = why;
    for (const p of pending.values()) p.reject(new ChatError('STORE_UNAVAILABLE', `the store in ${dataDir} is unavailable: ${why}`));
    pending.clear();
  };

  const id = await new Promise<string>((resolve, reject) => {
    const onError = (err: Error): void => reject(new ChatError('STORE_UNAVAILABLE', `cannot open the store in ${dataDir}: ${err.message}`, { cause: err }));
    worker.once('error', onError);
    worker.once('message', (answer: WorkerAnswer) => {
      worker.off('error', onError);
      if ('ready' in answer) return resolve(answer.ready.id);
      void worker.terminate();
      const message = 'failed' in answer ? answer.failed.message : 'no answer';
      reject(new ChatError('STORE_UNAVAILABLE', `cannot open the store ${file}: ${message}`));
    });
  });

  worker.on('message', (answer: WorkerAnswer) => {
    const p = pending.get(answer.id);
    if (!p) return;
    pending.delete(answer.id);
    if (pending.size === 0) worker.unref();
    if ('value' in answer) p.resolve(answer.value);
    else if ('error' in answer) {
      const { code, message } = answer.error;
      p.reject(
        code !== null && unavailableCodes.test(code)
          ? new ChatError('STORE_UNAVAILABLE', `the store in ${dataDir} failed: ${message} (${code})`)
          : new Error(`store: ${message}`),
      );
    }
  });
  worker.on('error', (err) => fail(err.message));
  worker.on('exit', () => fail(closing ? 'closed' : 'its worker stopped'));
  // An idle store never keeps the process alive (calls ref it while they wait).
  worker.unref();

  const call = (op: keyof SqliteOps | `history.${keyof SqliteHistory}`, ...args: unknown[]): Promise<never> =>
    new Promise((resolve, reject) => {
      if (down !== null || closing) {
        return reject(new ChatError('STORE_UNAVAILABLE', `the store in ${dataDir} is unavailable: ${down ?? 'closed'}`));
      }
      const callId = nextId++;
      // Waiting for an answer keeps the process alive (a script awaiting the store); idle, the
      // store never does.
      if (pending.size === 0) worker.ref();
      pending.set(callId, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id: callId, op, args } satisfies WorkerCall);
    });

  // Opened after the worker has migrated the file, with no busy timeout: while another process
  // holds the file (a second node migrating it at the same moment) opening fails at once, and
  // reads go to the worker until a later read opens it.
  let reads: SqliteReads | null = null;
  const openReads = (): SqliteReads | null => {
    try {
      return new SqliteReads(new Database(file, { readonly: true, fileMustExist: true, timeout: 0 }));
    } catch {
      return null;
    }
  };
  reads = openReads();
  /** A read on the event loop; the worker's answer if it cannot be done here. */
  const read = <K extends keyof SqliteReads & keyof SqliteOps>(op: K, ...args: unknown[]): Promise<never> => {
    if (down !== null || closing) return call(op, ...args);
    reads ??= openReads();
    if (reads === null) return call(op, ...args);
    try {
      return Promise.resolve((reads[op] as (...a: unknown[]) => never).apply(reads, args));
    } catch {
      return call(op, ...args);
    }
  };

  /** A history call: always on the worker, reads too (a range is big work, not a lookup by key). */
  const history = <K extends keyof SqliteHistory>(
    op: K,
    ...args: Parameters<SqliteHistory[K]>
  ): Promise<ReturnType<SqliteHistory[K]>> => call(`history.${op}`, ...args);
  const historyStore: HistoryStore = {
    append: (entries) => history('append', entries),
    ...rangeMethods((target, request) => history('range', target, request)),
    targets: (channels, account, from, to, limit) => history('targets', channels, account, from, to, limit),
    entry: (target, msgid) => history('entry', target, msgid),
    remove: (target, msgid) => history('remove', target, msgid),
    purge: (target) => history('purge', target),
    moveTarget: (from, to) => history('moveTarget', from, to),
    trim: (olderThan, maxPerTarget, maxRows) => history('trim', olderThan, maxPerTarget, maxRows),
    readMarker: (account, target) => history('readMarker', account, target),
    setReadMarker: (account, target, at) => history('setReadMarker', account, target, at),
  };

  return {
    kind: 'sqlite',
    id,
    where: file,
    history: historyStore,
    createAccount: (key, account, credentials) => call('createAccount', key, account, credentials),
    account: (key) => read('account', key),
    credentials: (key) => read('credentials', key),
    setCredentials: (key, credentials) => call('setCredentials', key, credentials),
    alwaysOn: (key) => read('alwaysOn', key),
    setAlwaysOn: (key, on) => call('setAlwaysOn', key, on),
    keepUser: (key, kept) => call('keepUser', key, kept),
    keptUsers: () => call('keptUsers'),
    keptUser: (key) => read('keptUser', key),
    autoreplayMissed: (key) => read('autoreplayMissed', key),
    setAutoreplayMissed: (key, on) => call('setAutoreplayMissed', key, on),
    dropAccount: (key) => call('dropAccount', key),
    addCertificate: (key, fingerprint) => call('addCertificate', key, fingerprint),
    removeCertificate: (key, fingerprint) => call('removeCertificate', key, fingerprint),
    accountByCertificate: (fingerprint) => read('accountByCertificate', fingerprint),
    registerChannel: (key, founderKey, channel) => call('registerChannel', key, founderKey, channel),
    channel: (key) => read('channel', key),
    updateChannel: (key, change) => call('updateChannel', key, change),
    dropChannel: (key) => call('dropChannel', key),
    channelsFoundedBy: (accountKey) => read('channelsFoundedBy', accountKey),
    addBan: (key, ban) => call('addBan', key, ban),
    removeBan: (key) => call('removeBan', key),
    bans: (now) => read('bans', now),
    async close() {
      if (down !== null || closing) return;
      closing = true;
      reads?.close();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Calls already posted are answered first: the worker takes messages in order.
      worker.postMessage('close');
      // The worker ends once its port is closed; terminate() if it does not within a second.
      const timer = setTimeout(() => void worker.terminate(), 1_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
