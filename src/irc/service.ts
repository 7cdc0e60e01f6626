// The IRC protocol ready to serve: with --redis this process joins the network on Redis first
// (its state and bus), then the session adapter is built on them and attached back, so Redis
// can hand this node what other nodes send. The CLI starts this and hands `protocol` to the
// listener; on the way out it waits for departures to reach the network, then leaves it.

import type { InspectionEvent } from 'xstate';
import type { ServerConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { RedisNetwork } from './redis/network.js';
import { ircProtocol, type IrcProtocol } from './session/protocol.js';

export interface IrcService {
  readonly protocol: IrcProtocol;
  /** The network on Redis this node belongs to; null when this process is the network. */
  readonly network: RedisNetwork | null;
  /** After the listener has stopped: every departure is out, then the node leaves Redis. */
  close(): Promise<void>;
}

/** Rejects with a ChatError when Redis cannot be joined. */
export async function startIrc(
  config: ServerConfig,
  logger: Logger,
  inspect: ((event: InspectionEvent) => void) | undefined,
): Promise<IrcService> {
  let network: RedisNetwork | null = null;
  if (config.irc.redisUrl !== null) {
    // Loaded only for --redis: ioredis stays out of a standalone server.
    const { connectRedisNetwork } = await import('./redis/network.js');
    network = await connectRedisNetwork({
      url: config.irc.redisUrl,
      network: config.irc.network,
      serverName: config.irc.serverName,
      heartbeatMs: config.irc.nodeHeartbeatMs,
      nodeTimeoutMs: config.irc.nodeTimeoutMs,
      logger,
    });
  }
  const protocol = ircProtocol(
    config,
    logger,
    inspect,
    network ? { state: network.state, nodeIndex: network.nodeIndex, bus: network.bus } : {},
  );
  network?.attach(protocol);
  return {
    protocol,
    network,
    async close() {
      await protocol.settled();
      await network?.close();
    },
  };
}
