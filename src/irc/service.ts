// The IRC protocol ready to serve: the store first (accounts, registered channels and bans:
// SQLite in --data-dir, or PostgreSQL with --database), then with --redis this process joins
// the network on Redis (its state and bus; refused if the network shares another store), then
// the session adapter is built on them and attached back, so Redis can hand this node what
// other nodes send. The CLI starts this and hands `protocol` to the listener; on the way out it
// waits for departures to reach the network, writes the history it still holds, leaves the
// network, and closes the store.

import path from 'node:path';
import type { InspectionEvent } from 'xstate';
import { usesRedis, type ServerConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { BufferedHistory } from '../history/bufferedHistory.js';
import { startRetention } from '../history/retention.js';
import { openSqliteStore } from '../store/sqliteStore.js';
import type { Store } from '../store/store.js';
import { watchStore } from '../store/watchedStore.js';
import type { RedisNetwork } from './redis/network.js';
import { ircProtocol, type IrcProtocol, type IrcProtocolOptions } from './session/protocol.js';

export interface IrcService {
  readonly protocol: IrcProtocol;
  /** The network on Redis this node belongs to; null when this process is the network. */
  readonly network: RedisNetwork | null;
  readonly store: Store;
  /** After the listener has stopped: every departure is out, then the node leaves Redis. */
  close(): Promise<void>;
}

/** The store the flags name: PostgreSQL with --database, else SQLite in --data-dir. */
export async function openStore(config: ServerConfig['irc']): Promise<Store> {
  if (config.databaseUrl !== null) {
    // Loaded only for --database: pg stays out of a server that does not use it.
    const { openPostgresStore } = await import('../store/postgresStore.js');
    return openPostgresStore(config.databaseUrl);
  }
  return openSqliteStore(path.resolve(config.dataDir));
}

/** Rejects with a ChatError when the store cannot be opened or Redis cannot be joined. */
export async function startIrc(
  config: ServerConfig,
  logger: Logger,
  inspect: ((event: InspectionEvent) => void) | undefined,
  rehash: Pick<IrcProtocolOptions, 'reloadOpers' | 'shareRehash'> = {},
): Promise<IrcService> {
  const store = watchStore(await openStore(config.irc), logger);
  logger.log('info', 'store.opened', { kind: store.kind, where: store.where });
  let network: RedisNetwork | null = null;
  if (usesRedis(config.irc)) {
    // Loaded only for --redis: ioredis stays out of a standalone server.
    const { connectRedisNetwork } = await import('./redis/network.js');
    try {
      network = await connectRedisNetwork({
        url: config.irc.redisUrl ?? '',
        sentinels: config.irc.redisSentinels,
        name: config.irc.redisName,
        network: config.irc.network,
        serverName: config.irc.serverName,
        heartbeatMs: config.irc.nodeHeartbeatMs,
        nodeTimeoutMs: config.irc.nodeTimeoutMs,
        logger,
        store,
      });
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  // History: writes buffered (one transaction per batch, off the event loop), and trimmed in
  // the background; none of it with --history off.
  const irc = config.irc;
  const history =
    irc.history === 'on'
      ? new BufferedHistory(store.history, {
          flushMs: irc.historyFlushMs,
          flushMaxEntries: irc.historyFlushMaxEntries,
          bufferMaxEntries: irc.historyBufferMaxEntries,
          logger,
        })
      : null;
  const stopRetention = history
    ? startRetention(history, {
        maxAgeDays: irc.historyMaxAgeDays,
        maxPerTarget: irc.historyMaxPerTarget,
        intervalMs: irc.historyTrimIntervalMs,
        batchRows: irc.historyTrimBatchRows,
        now: Date.now,
        logger,
      })
    : () => {};
  const protocol = ircProtocol(
    config,
    logger,
    inspect,
    {
      store,
      ...(history ? { history } : {}),
      ...rehash,
      ...(network ? { state: network.state, nodeIndex: network.nodeIndex, bus: network.bus } : {}),
    },
  );
  network?.attach(protocol);
  return {
    protocol,
    network,
    store,
    async close() {
      await protocol.settled();
      // What the departures said is in the history before the store closes.
      stopRetention();
      await history?.flush();
      await network?.close();
      await store.close();
    },
  };
}
