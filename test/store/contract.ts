// The Store contract (src/store/store.ts): one suite that every implementation passes, SQLite
// in a temporary --data-dir and PostgreSQL in a temporary cluster alike. `open` gives a fresh,
// empty store for each test; `reopen` (when given) opens the same database again, as a restart
// or a second node would.
import { describe, expect, it } from 'vitest';
import { ChatError } from '../../src/core/errors.js';
import { conversationKey, type HistoryEntry } from '../../src/history/history.js';
import type { Credentials, KeptKick, NetworkBan, Store } from '../../src/store/store.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** The same database as `store`, opened again (a restart, or another node). */
  reopen(store: Store): Promise<Store>;
}

const creds = (n: number): Credentials => ({
  passwordHash: `$scrypt$ln=14,r=8,p=1$c2FsdA$${n}`,
  scram: { salt: `salt${n}`, iterations: 4096, storedKey: `stored${n}`, serverKey: `server${n}` },
});

const ban = (mask: string, at: number, expiresAt: number | null = null): NetworkBan => ({
  mask,
  reason: `no ${mask}`,
  setBy: 'oper',
  setAt: at,
  expiresAt,
});

async function using<T>(factory: StoreFactory, body: (store: Store) => Promise<T>): Promise<T> {
  const store = await factory.open();
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    it('creates an account once and reads it back with its credentials', async () => {
      await using(factory, async (store) => {
        expect(await store.account('alice')).toBeNull();
        expect(await store.createAccount('alice', { name: 'Alice', email: 'a@example.org', registeredAt: 1000 }, creds(1))).toBe(true);
        expect(await store.createAccount('alice', { name: 'ALICE', email: null, registeredAt: 2000 }, creds(2))).toBe(false);
        expect(await store.account('alice')).toEqual({ name: 'Alice', email: 'a@example.org', registeredAt: 1000, certificates: [] });
        expect(await store.credentials('alice')).toEqual(creds(1));
        expect(await store.credentials('bob')).toBeNull();
      });
    });

    it('lets exactly one of many racing registrations of one account win', async () => {
      await using(factory, async (store) => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.createAccount('race', { name: `Race${i}`, email: null, registeredAt: i }, creds(i))),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.account('race'))?.name).toBe(`Race${winner}`);
        expect(await store.credentials('race')).toEqual(creds(winner));
      });
    });

    it('replaces credentials only of an account that exists', async () => {
      await using(factory, async (store) => {
        expect(await store.setCredentials('carol', creds(3))).toBe(false);
        await store.createAccount('carol', { name: 'carol', email: null, registeredAt: 1 }, creds(1));
        expect(await store.setCredentials('carol', creds(3))).toBe(true);
        expect(await store.credentials('carol')).toEqual(creds(3));
      });
    });

    it("keeps an always-on account's user for the next start, until ALWAYSON is turned off", async () => {
      await using(factory, async (store) => {
        const kept = (channels: string[], away: string | null = null, leftAt: number | null = 1_700_000_000_123, kicks: KeptKick[] = []) => ({ channels, user: '~ona', host: '192.0.2.1', realname: "Ona's 'name'", away, leftAt, kicks });
        await store.createAccount('ona', { name: 'Ona', email: null, registeredAt: 1 }, creds(1));
        await store.createAccount('off', { name: 'off', email: null, registeredAt: 1 }, creds(2));
        // Not always-on: nothing kept.
        await store.keepUser('off', kept(['#a']));
        expect(await store.keptUsers()).toEqual([]);
        expect(await store.setAlwaysOn('ona', true)).toBe(true);
        await store.keepUser('ona', kept(['#one', "#it's", '#ünï'], 'gone fishing'));
        expect(await store.keptUsers()).toEqual([{ name: 'Ona', kept: kept(['#one', "#it's", '#ünï'], 'gone fishing') }]);
        expect(await store.keptUser('ona')).toEqual(kept(['#one', "#it's", '#ünï'], 'gone fishing'));
        const kick = { channel: '#two', by: 'Op', reason: "you're out", at: 1_700_000_000_456 };
        await store.keepUser('ona', kept(['#one'], null, 1_700_000_000_123, [kick]));
        expect(await store.keptUser('ona')).toEqual(kept(['#one'], null, 1_700_000_000_123, [kick]));
        await store.keepUser('ona', kept([], null, null));
        expect(await store.keptUsers()).toEqual([{ name: 'Ona', kept: kept([], null, null) }]);
        expect(await store.keptUser('off')).toBeNull();
        expect(await store.keptUser('nobody')).toBeNull();
        await store.keepUser('ona', kept(['#two']));
        await store.setAlwaysOn('ona', false);
        expect(await store.keptUser('ona')).toBeNull();
        await store.setAlwaysOn('ona', true);
        expect(await store.keptUsers()).toEqual([]);
        expect(await store.keptUser('ona')).toBeNull();
      });
    });

    it('keeps AUTOREPLAY-MISSED per account, on unless turned off', async () => {
      await using(factory, async (store) => {
        await store.createAccount('rae', { name: 'Rae', email: null, registeredAt: 1 }, creds(1));
        expect(await store.autoreplayMissed('rae')).toBe(true);
        expect(await store.setAutoreplayMissed('rae', false)).toBe(true);
        expect(await store.autoreplayMissed('rae')).toBe(false);
        expect(await store.setAutoreplayMissed('rae', true)).toBe(true);
        expect(await store.autoreplayMissed('rae')).toBe(true);
        expect(await store.autoreplayMissed('nobody')).toBe(false);
        expect(await store.setAutoreplayMissed('nobody', false)).toBe(false);
      });
    });

    it('keeps a fingerprint on one account only, and finds the account by it', async () => {
      await using(factory, async (store) => {
        expect(await store.addCertificate('dave', 'ab'.repeat(32))).toBe('noAccount');
        await store.createAccount('dave', { name: 'Dave', email: null, registeredAt: 1 }, creds(1));
        await store.createAccount('erin', { name: 'Erin', email: null, registeredAt: 1 }, creds(2));
        expect(await store.addCertificate('dave', 'ab'.repeat(32))).toBe('added');
        expect(await store.addCertificate('dave', 'ab'.repeat(32))).toBe('exists');
        expect(await store.addCertificate('erin', 'ab'.repeat(32))).toBe('taken');
        expect(await store.addCertificate('dave', 'cd'.repeat(32))).toBe('added');
        expect((await store.account('dave'))?.certificates).toEqual(['ab'.repeat(32), 'cd'.repeat(32)]);
        expect(await store.accountByCertificate('ab'.repeat(32))).toBe('Dave');
        expect(await store.accountByCertificate('ef'.repeat(32))).toBeNull();
        expect(await store.removeCertificate('dave', 'ab'.repeat(32))).toBe(true);
        expect(await store.removeCertificate('dave', 'ab'.repeat(32))).toBe(false);
        expect(await store.accountByCertificate('ab'.repeat(32))).toBeNull();
      });
    });

    it('registers a channel to an existing account only, once, and keeps its topic and modes', async () => {
      await using(factory, async (store) => {
        const chan = { name: '#Chat', registeredAt: 5, topic: null, topicSetBy: null, topicSetAt: null, modes: 'nt', key: null, limit: null };
        expect(await store.registerChannel('#chat', 'frank', chan)).toBe(false);
        await store.createAccount('frank', { name: 'Frank', email: null, registeredAt: 1 }, creds(1));
        expect(await store.registerChannel('#chat', 'frank', chan)).toBe(true);
        expect(await store.registerChannel('#chat', 'frank', chan)).toBe(false);
        expect(await store.channel('#chat')).toEqual({ ...chan, founder: 'Frank' });
        expect(await store.updateChannel('#chat', { topic: 'hello', topicSetBy: 'Frank', topicSetAt: 9, modes: 'kmnt', key: 'k3y', limit: 10 })).toBe(true);
        expect(await store.channel('#chat')).toEqual({
          ...chan,
          founder: 'Frank',
          topic: 'hello',
          topicSetBy: 'Frank',
          topicSetAt: 9,
          modes: 'kmnt',
          key: 'k3y',
          limit: 10,
        });
        // A partial change leaves the rest as it was; null clears.
        expect(await store.updateChannel('#chat', { key: null })).toBe(true);
        expect((await store.channel('#chat'))?.topic).toBe('hello');
        expect((await store.channel('#chat'))?.key).toBeNull();
        expect(await store.updateChannel('#nope', { topic: 'x' })).toBe(false);
        expect(await store.channelsFoundedBy('frank')).toEqual(['#Chat']);
        expect(await store.dropChannel('#chat')).toBe(true);
        expect(await store.dropChannel('#chat')).toBe(false);
        expect(await store.channel('#chat')).toBeNull();
      });
    });

    it('drops an account with its certificates and the channels it founded', async () => {
      await using(factory, async (store) => {
        expect(await store.dropAccount('gina')).toBe(false);
        await store.createAccount('gina', { name: 'gina', email: null, registeredAt: 1 }, creds(1));
        await store.addCertificate('gina', '01'.repeat(32));
        const chan = { name: '#g', registeredAt: 5, topic: null, topicSetBy: null, topicSetAt: null, modes: '', key: null, limit: null };
        await store.registerChannel('#g', 'gina', chan);
        expect(await store.dropAccount('gina')).toBe(true);
        expect(await store.account('gina')).toBeNull();
        expect(await store.credentials('gina')).toBeNull();
        expect(await store.accountByCertificate('01'.repeat(32))).toBeNull();
        expect(await store.channel('#g')).toBeNull();
        // The name is free again.
        expect(await store.createAccount('gina', { name: 'Gina', email: null, registeredAt: 2 }, creds(2))).toBe(true);
        expect(await store.channelsFoundedBy('gina')).toEqual([]);
      });
    });

    it('drops an account with its private conversations and read markers, so that a new account of its name inherits none', async () => {
      await using(factory, async (store) => {
        for (const name of ['hal', 'ivy']) await store.createAccount(name, { name, email: null, registeredAt: 1 }, creds(1));
        const entry = (target: string, msgid: string, at: number, between: [string, string] | null): HistoryEntry => ({
          target, msgid, at, command: 'PRIVMSG', source: 'x!u@h', account: between?.[0] ?? null, params: [target, 'secret'], tags: {}, between,
        });
        const dm = conversationKey('hal', 'ivy');
        await store.history.append([entry(dm, 'd1', 10, ['hal', 'ivy']), entry(dm, 'd2', 11, ['ivy', 'hal']), entry('#open', 'c1', 12, null)]);
        await store.history.setReadMarker('hal', '#open', 12);
        await store.history.setReadMarker('ivy', '#open', 12);
        expect(await store.dropAccount('hal')).toBe(true);
        await store.createAccount('hal', { name: 'Hal', email: null, registeredAt: 2 }, creds(2));
        expect(await store.history.latest(dm, null, 10)).toEqual([]);
        expect(await store.history.targets([], 'hal', 0, 1000, 10)).toEqual([]);
        expect(await store.history.targets([], 'ivy', 0, 1000, 10)).toEqual([]);
        expect(await store.history.readMarker('hal', '#open')).toBeNull();
        // What others keep is theirs: the channel's history, the other account's markers.
        expect((await store.history.latest('#open', null, 10)).map((e) => e.msgid)).toEqual(['c1']);
        expect(await store.history.readMarker('ivy', '#open')).toBe(12);
      });
    });

    it('keeps network bans once per mask, lists the live ones oldest first, and removes them', async () => {
      await using(factory, async (store) => {
        expect(await store.addBan('*!*@10.0.0.1', ban('*!*@10.0.0.1', 10))).toBe(true);
        expect(await store.addBan('*!*@10.0.0.1', ban('*!*@10.0.0.1', 11))).toBe(false);
        expect(await store.addBan('bad!*@*', ban('BAD!*@*', 5, 100))).toBe(true);
        expect(await store.bans(50)).toEqual([ban('BAD!*@*', 5, 100), ban('*!*@10.0.0.1', 10)]);
        // Lapsed at 100: no longer listed.
        expect(await store.bans(100)).toEqual([ban('*!*@10.0.0.1', 10)]);
        expect(await store.removeBan('*!*@10.0.0.1')).toBe(true);
        expect(await store.removeBan('*!*@10.0.0.1')).toBe(false);
        expect(await store.bans(0)).toEqual([ban('BAD!*@*', 5, 100)]);
      });
    });

    it('keeps text exactly, whatever a client put in it (quotes, NUL-free Unicode, SQL)', async () => {
      await using(factory, async (store) => {
        const name = "Zoë'); DROP TABLE accounts;--";
        expect(await store.createAccount('zoe', { name, email: 'ö@例え.jp', registeredAt: 1 }, creds(1))).toBe(true);
        expect((await store.account('zoe'))?.name).toBe(name);
        expect((await store.account('zoe'))?.email).toBe('ö@例え.jp');
        expect(await store.account("zoe' OR '1'='1")).toBeNull();
      });
    });

    it('keeps everything when opened again (a restart, or another node), under the same id', async () => {
      const store = await factory.open();
      let again: Store | null = null;
      try {
        await store.createAccount('hal', { name: 'Hal', email: null, registeredAt: 1 }, creds(1));
        await store.addBan('*!*@x', ban('*!*@x', 1));
        again = await factory.reopen(store);
        expect(again.id).toBe(store.id);
        expect(again.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(await again.account('hal')).toEqual({ name: 'Hal', email: null, registeredAt: 1, certificates: [] });
        // What one writes, the other reads at once.
        await again.createAccount('ivy', { name: 'Ivy', email: null, registeredAt: 2 }, creds(2));
        expect((await store.account('ivy'))?.name).toBe('Ivy');
        expect(await store.bans(0)).toHaveLength(1);
      } finally {
        await again?.close();
        await store.close();
      }
    });

    it('rejects with STORE_UNAVAILABLE once closed', async () => {
      const store = await factory.open();
      await store.close();
      const err = await store.account('x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChatError);
      expect((err as ChatError).code).toBe('STORE_UNAVAILABLE');
    });
  });
}
