// The PostgreSQL store against a real PostgreSQL (test/store/postgresServer.ts): the Store
// contract on a new database per test, then what only a shared, networked database brings:
// nodes migrating one database at once, a database newer than this server, and PostgreSQL going
// away and coming back under a store that stays open.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChatError } from '../../src/core/errors.js';
import type { HistoryEntry } from '../../src/history/history.js';
import { migrationsFor } from '../../src/store/migrations.js';
import { openPostgresStore, type PostgresStoreOptions } from '../../src/store/postgresStore.js';
import type { Credentials, Store } from '../../src/store/store.js';
import { watchStore } from '../../src/store/watchedStore.js';
import { storeContract } from './contract.js';
import { historyContract } from './historyContract.js';
import { startPostgres, type PgServer } from './postgresServer.js';

const creds: Credentials = {
  passwordHash: '$scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaA',
  scram: { salt: 'c2FsdA', iterations: 4096, storedKey: 'c3RvcmVk', serverKey: 'c2VydmVy' },
};

const historyEntry: HistoryEntry = {
  target: '#c',
  msgid: 'm1',
  at: 1,
  command: 'PRIVMSG',
  source: 'lee!u@h',
  account: 'Lee',
  params: ['#c', 'hi'],
  tags: {},
  between: null,
};

/** What a rejected call rejected with. */
const failure = (call: Promise<unknown>): Promise<unknown> => call.then(() => new Error('it resolved'), (err: unknown) => err);

function expectUnavailable(err: unknown): void {
  expect(err).toBeInstanceOf(ChatError);
  expect((err as ChatError).code).toBe('STORE_UNAVAILABLE');
}

/** Runs one statement on its own connection, outside any store. */
async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

let server: PgServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const urlOf = new WeakMap<Store, string>();
async function open(url: string, options?: PostgresStoreOptions): Promise<Store> {
  const store = await openPostgresStore(url, options);
  urlOf.set(store, url);
  return store;
}

storeContract('PostgreSQL', {
  open: async () => open(await server.freshDatabase()),
  reopen: async (store) => open(urlOf.get(store)!),
});

historyContract('PostgreSQL', {
  async open() {
    const store = await open(await server.freshDatabase());
    return { history: store.history, close: () => store.close() };
  },
  runs: 100,
  closes: true,
});

describe('PostgreSQL store', () => {
  it('lets several nodes open a new database at once: it is migrated once and they share one id', async () => {
    const url = await server.freshDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(url)));
    try {
      expect(new Set(stores.map((s) => s.id)).size).toBe(1);
      const versions = await sql(url, 'SELECT version, name FROM schema_migrations ORDER BY version');
      expect(versions.rows).toEqual(migrationsFor('postgres').map((m) => ({ version: m.version, name: m.name })));
      expect((await sql(url, 'SELECT key FROM store_meta')).rows).toEqual([{ key: 'id' }]);
      expect(await stores[0]!.createAccount('kim', { name: 'Kim', email: null, registeredAt: 1 }, creds)).toBe(true);
      expect((await stores[3]!.account('kim'))?.name).toBe('Kim');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('lets two nodes append to the same targets at once: each msgid kept once, each target counted right', async () => {
    const url = await server.freshDatabase();
    const nodes = await Promise.all([open(url), open(url)]);
    try {
      const targets = ['#a', '#b', '#c', 'alice bob'];
      // Each node appends 30 batches over every target; a third of the msgids are both nodes'.
      const batch = (node: number, round: number): HistoryEntry[] =>
        targets.map((target, t) => ({
          ...historyEntry,
          target,
          msgid: round % 3 === 0 ? `shared-${round}-${t}` : `n${node}-${round}-${t}`,
          at: round,
          between: target.includes(' ') ? (['alice', 'bob'] as const) : null,
        }));
      await Promise.all(nodes.map((store, node) => Promise.all(Array.from({ length: 30 }, (_, round) => store.history.append(batch(node, round))))));
      for (const target of targets) {
        const all = await nodes[0]!.history.latest(target, null, 1000);
        expect(all).toHaveLength(50);
        expect(new Set(all.map((e) => e.msgid)).size).toBe(50);
      }
      // Both trim to a cap of 7 at once: the counts were right, and neither trims past the cap.
      const trimmed = await Promise.all(nodes.map(async (store) => {
        let total = 0;
        for (let n = -1; n !== 0; total += n) n = await store.history.trim(0, 7, 5);
        return total;
      }));
      expect(trimmed[0]! + trimmed[1]!).toBe(4 * 43);
      for (const target of targets) expect(await nodes[1]!.history.latest(target, null, 1000)).toHaveLength(7);
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
    }
  });

  it('refuses a database at a schema version newer than it knows', async () => {
    const url = await server.freshDatabase();
    await (await open(url)).close();
    await sql(url, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)");
    const err = await failure(open(url));
    expectUnavailable(err);
    expect((err as ChatError).message).toMatch(/schema version 99, newer than this server knows/);
  });

  it('names where it is without the password', async () => {
    const url = await server.freshDatabase();
    const store = await open(url.replace('postgres@', 'postgres:s3cret@'));
    try {
      expect(store.kind).toBe('postgres');
      expect(store.where).toBe(url);
      expect(store.where).not.toContain('s3cret');
    } finally {
      await store.close();
    }
  });

  it('fails to open, with STORE_UNAVAILABLE, where no PostgreSQL listens', async () => {
    const url = await server.freshDatabase();
    const nobody = url.replace(`:${server.port}/`, ':1/');
    const started = Date.now();
    expectUnavailable(await failure(openPostgresStore(nobody, { connectTimeoutMs: 2_000 })));
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('closes once however often it is closed, and rejects every later call', async () => {
    const store = await open(await server.freshDatabase());
    await store.close();
    await store.close();
    expectUnavailable(await failure(store.bans(0)));
    expectUnavailable(await failure(store.addCertificate('x', 'ab')));
  });
});

describe('PostgreSQL store through an outage', () => {
  // A server of its own: these tests take it down.
  let outage: PgServer;
  beforeAll(async () => {
    outage = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await outage?.stop();
  });

  it('rejects calls with STORE_UNAVAILABLE while PostgreSQL is down, and serves them again once it is back, without reopening', async () => {
    const errors: Error[] = [];
    const store = await open(await outage.freshDatabase(), { connectTimeoutMs: 2_000, onError: (err) => errors.push(err) });
    try {
      expect(await store.createAccount('lee', { name: 'Lee', email: null, registeredAt: 1 }, creds)).toBe(true);
      await outage.shutdown();

      const started = Date.now();
      expectUnavailable(await failure(store.account('lee')));
      expectUnavailable(await failure(store.createAccount('max', { name: 'Max', email: null, registeredAt: 2 }, creds)));
      // A transaction, on a connection of its own.
      expectUnavailable(await failure(store.addCertificate('lee', 'ab'.repeat(32))));
      // The history's reads and its batched append alike.
      expectUnavailable(await failure(store.history.latest('#c', null, 10)));
      expectUnavailable(await failure(store.history.append([historyEntry])));
      expect(Date.now() - started).toBeLessThan(5_000);
      // The idle connection PostgreSQL ended (57P01) was reported, not thrown.
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));

      await outage.start();
      expect((await store.account('lee'))?.name).toBe('Lee');
      expect(await store.addCertificate('lee', 'ab'.repeat(32))).toBe('added');
      expect(await store.createAccount('max', { name: 'Max', email: null, registeredAt: 2 }, creds)).toBe(true);
      await store.history.append([historyEntry]);
      expect(await store.history.latest('#c', null, 10)).toEqual([historyEntry]);
    } finally {
      await outage.start().catch(() => {}); // if a step failed while it was down
      await store.close();
    }
  });

  it('through watchStore: logs the outage once and its end once, and keeps applying the bans it last read', async () => {
    const lines: Array<{ level: string; event: string }> = [];
    const raw = await open(await outage.freshDatabase(), { connectTimeoutMs: 2_000 });
    const now = Date.now();
    const ban = (mask: string, expiresAt: number | null) => ({ mask, reason: 'r', setBy: 'oper', setAt: now, expiresAt });
    expect(await raw.addBan('forever!*@*', ban('forever!*@*', null))).toBe(true);
    expect(await raw.addBan('soon!*@*', ban('soon!*@*', now + 60_000))).toBe(true);
    const store = watchStore(raw, { log: (level, event) => lines.push({ level, event }) });
    try {
      expect((await store.bans(now)).map((b) => b.mask)).toEqual(['forever!*@*', 'soon!*@*']);
      await outage.shutdown();
      // The bans as last read, less the one lapsed since; every other call fails as before.
      expect((await store.bans(now + 120_000)).map((b) => b.mask)).toEqual(['forever!*@*']);
      expectUnavailable(await failure(store.account('lee')));
      expectUnavailable(await failure(store.createAccount('max', { name: 'Max', email: null, registeredAt: 2 }, creds)));
      expect(lines).toEqual([{ level: 'error', event: 'store.unavailable' }]);
      await outage.start();
      expect(await store.account('nobody')).toBe(null);
      expect(await store.account('nobody')).toBe(null);
      expect(lines).toEqual([
        { level: 'error', event: 'store.unavailable' },
        { level: 'info', event: 'store.recovered' },
      ]);
    } finally {
      await outage.start().catch(() => {});
      await store.close();
    }
  });

  it('fails a call within queryTimeoutMs when PostgreSQL stops answering, and recovers when it answers again', async () => {
    const store = await open(await outage.freshDatabase(), { connectTimeoutMs: 1_000, queryTimeoutMs: 500 });
    try {
      expect(await store.createAccount('ned', { name: 'Ned', email: null, registeredAt: 1 }, creds)).toBe(true);
      outage.signal('SIGSTOP');
      const started = Date.now();
      expectUnavailable(await failure(store.account('ned')));
      expectUnavailable(await failure(store.addCertificate('ned', 'cd'.repeat(32))));
      expect(Date.now() - started).toBeLessThan(4_000);
      outage.signal('SIGCONT');
      expect((await store.account('ned'))?.name).toBe('Ned');
    } finally {
      outage.signal('SIGCONT');
      await store.close();
    }
  });
});
