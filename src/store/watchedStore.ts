// What the server does while its store is away (PostgreSQL stopped, a full disk). Each caller
// already answers a STORE_UNAVAILABLE failure to its client (a NOTICE, 904, 437), but two
// things were nobody's: the operator was never told, and a network ban could not be read, so a
// KLINEd user got in. Both are done here, once, for every caller:
// - the first failure of an outage is logged (store.unavailable), and the first success after
//   it (store.recovered): two lines per outage, however many clients hit it meanwhile;
// - bans() answers from the last list it read, less what has lapsed since, while the store is
//   away: KLINEs keep applying through an outage (one added on another node meanwhile applies
//   here once the store is back).

import type { Logger } from '../core/logger.js';
import { isStoreUnavailable, type NetworkBan, type Store } from './store.js';

export function watchStore(store: Store, logger: Logger): Store {
  let down = false;
  let lastBans: readonly NetworkBan[] = [];

  function failed(err: unknown, call: string): void {
    if (down || !isStoreUnavailable(err)) return;
    down = true;
    logger.log('error', 'store.unavailable', { kind: store.kind, where: store.where, call, message: err.message });
  }
  function succeeded(): void {
    if (!down) return;
    down = false;
    logger.log('info', 'store.recovered', { kind: store.kind, where: store.where });
  }

  // Every call that returns a promise goes through `watched`.
  function watched(name: string, call: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    return (...args) => {
      const result = call.apply(store, args);
      if (!(result instanceof Promise)) return result;
      return result.then(
        (value) => {
          succeeded();
          return value;
        },
        (err: unknown) => {
          failed(err, name);
          throw err;
        },
      );
    };
  }
  const readBans = watched('bans', store.bans as (...args: unknown[]) => unknown) as Store['bans'];
  const bans = async (now: number): Promise<NetworkBan[]> => {
    try {
      return (lastBans = await readBans(now));
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      return lastBans.filter((b) => b.expiresAt === null || b.expiresAt > now);
    }
  };

  // Read once now, while the store was just opened: a ban applies even if the first outage
  // comes before the first registration.
  void bans(Date.now()).catch(() => {});

  // The same object with each call wrapped, made once (the stores are plain objects of
  // functions and values: nothing to forward at each access).
  const watchedStore: Record<string, unknown> = { ...store };
  for (const [key, value] of Object.entries(store)) {
    if (typeof value === 'function' && key !== 'close') watchedStore[key] = watched(key, value as (...args: unknown[]) => unknown);
  }
  watchedStore.bans = bans;
  return watchedStore as unknown as Store;
}
