// The SQLite store (src/store/sqliteStore.ts) against the Store contract, in a real file in a
// temporary --data-dir, plus what only a file on this machine has: its permissions, WAL, the
// schema version, and a failing disk.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatError } from '../../src/core/errors.js';
import { openSqliteStore, sqliteFileName } from '../../src/store/sqliteStore.js';
import type { Store } from '../../src/store/store.js';
import { storeContract } from './contract.js';
import { historyContract } from './historyContract.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'store-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const opened = new Map<Store, string>();
storeContract('SQLite', {
  async open() {
    const dir = freshDir();
    const store = await openSqliteStore(dir);
    opened.set(store, dir);
    return store;
  },
  async reopen(store) {
    return openSqliteStore(opened.get(store)!);
  },
});

historyContract('SQLite', {
  async open() {
    const store = await openSqliteStore(freshDir());
    return { history: store.history, close: () => store.close() };
  },
  runs: 100,
  closes: true,
});

describe('SQLite store', () => {
  it('creates its directory 0700 and its file 0600, in WAL mode, at the latest schema version', async () => {
    const dir = path.join(freshDir(), 'new', 'data');
    const store = await openSqliteStore(dir);
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const file = path.join(dir, sqliteFileName);
      expect(store.where).toBe(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([
          { version: 1, name: 'identity' },
          { version: 2, name: 'history' },
          { version: 3, name: 'always-on' },
          { version: 4, name: 'history-messages' },
          { version: 5, name: 'kept-users' },
          { version: 6, name: 'autoreplay-missed' },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });

  it('refuses a database newer than this server, with STORE_UNAVAILABLE', async () => {
    const dir = freshDir();
    await (await openSqliteStore(dir)).close();
    const db = new Database(path.join(dir, sqliteFileName));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future');
    db.close();
    const err = await openSqliteStore(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).code).toBe('STORE_UNAVAILABLE');
    expect((err as ChatError).message).toMatch(/schema version 99/);
  });

  it('refuses a file that is not a database, with STORE_UNAVAILABLE naming it', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, sqliteFileName), 'not a database, just text that is long enough to have a header'.repeat(20));
    const err = await openSqliteStore(dir).catch((e: unknown) => e);
    expect((err as ChatError).code).toBe('STORE_UNAVAILABLE');
    expect((err as ChatError).message).toContain(sqliteFileName);
  });

  it('refuses a --data-dir it cannot create, with STORE_UNAVAILABLE naming it', async () => {
    // Under a plain file: no directory can be made there, not even by root.
    const file = path.join(freshDir(), 'a-file');
    writeFileSync(file, '');
    const err = await openSqliteStore(path.join(file, 'data')).catch((e: unknown) => e);
    expect((err as ChatError).code).toBe('STORE_UNAVAILABLE');
    expect((err as ChatError).message).toContain(path.join(file, 'data'));
  });

  it('refuses a --data-dir under /proc at once (Node 20\'s recursive mkdir loops there for ever)', async () => {
    const err = await openSqliteStore('/proc/xstate-tcp-chat-no-such/data').catch((e: unknown) => e);
    expect((err as ChatError).code).toBe('STORE_UNAVAILABLE');
    expect((err as ChatError).message).toContain('cannot create the store in /proc/xstate-tcp-chat-no-such/data');
  }, 5_000);

  it('opens a new file from several processes at once: each waits its turn for the switch to WAL and the migration', async () => {
    // Nodes of one machine may share a --data-dir and start together (the Redis tests do); SQLite
    // answers the loser of a race for the WAL switch "database is locked" at once, without its
    // busy handler. The race is between processes (the threads of one process share their
    // locks), so four processes are told the same new directory at the same moment, 25 times.
    const opener = path.join(freshDir(), 'open.mjs');
    // The worker's own open (SqliteOps), with no thread to start first: the openers meet closer.
    const opsModule = new URL('../../dist/src/store/sqliteOps.js', import.meta.url).href;
    writeFileSync(
      opener,
      `import { createInterface } from 'node:readline';
      const { SqliteOps } = await import(${JSON.stringify(opsModule)});
      for await (const file of createInterface({ input: process.stdin })) {
        try { const s = new SqliteOps(file); console.log(s.id); s.close(); }
        catch (err) { console.log('failed: ' + err.message); }
      }`,
    );
    const openers = Array.from({ length: 4 }, () => {
      const proc = spawn(process.execPath, [opener], { stdio: ['pipe', 'pipe', 'inherit'] });
      return { proc, lines: createInterface({ input: proc.stdout })[Symbol.asyncIterator]() };
    });
    try {
      const ids = new Set<string>();
      for (let round = 0; round < 25; round++) {
        const file = path.join(freshDir(), sqliteFileName);
        for (const o of openers) o.proc.stdin.write(`${file}\n`);
        const answers = await Promise.all(openers.map(async (o) => String((await o.lines.next()).value)));
        // Every process opened it, and found the one store whoever created it.
        expect(answers.filter((a) => a.startsWith('failed'))).toEqual([]);
        expect(new Set(answers).size).toBe(1);
        ids.add(answers[0]!);
      }
      expect(ids.size).toBe(25);
    } finally {
      for (const o of openers) o.proc.kill();
    }
  }, 30_000);

  it('answers calls in the order they were made, off the event loop', async () => {
    const store = await openSqliteStore(freshDir());
    try {
      const creds = { passwordHash: 'h', scram: { salt: 's', iterations: 1, storedKey: 'a', serverKey: 'b' } };
      const order: string[] = [];
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 0);
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => store.createAccount(`u${i}`, { name: `u${i}`, email: null, registeredAt: i }, creds).then(() => order.push(`u${i}`))),
      );
      clearInterval(ticker);
      expect(order).toEqual(Array.from({ length: 300 }, (_, i) => `u${i}`));
      // The loop kept turning while the worker wrote: the writes did not run on it.
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('appends and reads history on its worker: the event loop turns through a big batch and its reads', async () => {
    const store = await openSqliteStore(freshDir());
    try {
      const entries = Array.from({ length: 50_000 }, (_, i) => ({
        target: '#big',
        msgid: `m${i}`,
        at: 1_000 + i,
        command: 'PRIVMSG',
        source: 'n!u@h',
        account: null,
        params: ['#big', `line ${i}`],
        tags: {},
        between: null,
      }));
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 0);
      await store.history.append(entries);
      const appendTicks = ticks;
      const pages = await Promise.all(Array.from({ length: 50 }, (_, i) => store.history.before('#big', { msgid: `m${i * 1000 + 500}` }, 100)));
      clearInterval(ticker);
      expect(appendTicks).toBeGreaterThan(0);
      expect(ticks).toBeGreaterThan(appendTicks);
      expect(pages.map((p) => p[99]?.msgid)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i * 1000 + 499}`));
    } finally {
      await store.close();
    }
  });
});
