// A real SQLite store in a temporary directory for tests that need a store but are not about
// it (the IRC harness, servers started in process). One per test process, opened on first use
// and removed when the process exits; tests that register accounts use names of their own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqliteStore.js';
import type { HistoryStore } from '../../src/history/history.js';
import type { Store } from '../../src/store/store.js';

let opened: Promise<Store> | null = null;

function open(): Promise<Store> {
  if (opened) return opened;
  const dir = mkdtempSync(path.join(tmpdir(), 'test-store-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return (opened = openSqliteStore(dir));
}

/** The process's test store, as a Store whose calls open it when first made. */
export function testStore(): Store {
  const lazy = {} as Record<string, unknown>;
  const methods = [
    'createAccount', 'account', 'credentials', 'setCredentials', 'alwaysOn', 'setAlwaysOn', 'keepUser', 'keptUsers', 'keptUser', 'autoreplayMissed', 'setAutoreplayMissed', 'dropAccount', 'addCertificate', 'removeCertificate',
    'accountByCertificate', 'registerChannel', 'channel', 'updateChannel', 'dropChannel', 'channelsFoundedBy', 'addBan',
    'removeBan', 'bans',
  ] as const;
  for (const name of methods) {
    lazy[name] = async (...args: unknown[]) => {
      const store = (await open()) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      return store[name]!(...args);
    };
  }
  const history = {} as Record<string, unknown>;
  const historyMethods = [
    'append', 'latest', 'before', 'after', 'around', 'between', 'targets', 'entry', 'remove', 'purge', 'moveTarget', 'trim',
    'readMarker', 'setReadMarker',
  ] as const satisfies ReadonlyArray<keyof HistoryStore>;
  // Fails to compile when HistoryStore gains a method this list lacks.
  const listsEvery: Record<Exclude<keyof HistoryStore, (typeof historyMethods)[number]>, never> = {};
  void listsEvery;
  for (const name of historyMethods) {
    history[name] = async (...args: unknown[]) => {
      const store = (await open()).history as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      return store[name]!(...args);
    };
  }
  // Shared by every server of the process: closing one server must not close it.
  return Object.assign(lazy, { kind: 'sqlite' as const, id: 'test', where: 'test store', history, close: async () => {} }) as unknown as Store;
}
