// The Redis client RedisState is handed: fail-fast options, and how "Redis is unreachable" (an
// error callers act on: a ChatError NETWORK_UNAVAILABLE) is told apart from a failing command (a bug).

import { ChatError, isNetworkUnavailable } from '../../core/errors.js';

/**
 * ioredis options for the client handed to RedisState. Fail fast instead of queueing: a command
 * that waited for Redis to come back would decide on a network that moved on without us (a nick
 * claimed meanwhile, a channel recreated), so we prefer an error the caller can act on.
 */
export const redisStateClientOptions = {
  /** Commands issued while disconnected reject at once ("Stream isn't writeable"). */
  enableOfflineQueue: false,
  /** Commands in flight when the connection drops reject at the first reconnect attempt. */
  maxRetriesPerRequest: 0,
  /** A Redis that stopped answering without closing the socket (a partition) fails within 5 s. */
  commandTimeout: 5_000,
  /** Keep trying to reconnect (every 50 ms doubling to 2 s); operations fail meanwhile. */
  retryStrategy: (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
} as const;

// ioredis reports an unreachable server with these messages and codes (offline queue disabled,
// retries exhausted, socket errors, our commandTimeout, a server still loading its data).
const unavailableMessage =
  /Connection is closed|Stream isn't writeable|max retries per request|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTCONN|^LOADING/i;
const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

/** True when `error` says Redis could not be reached (as opposed to a failing script: a bug). */
export function isUnavailable(error: unknown): boolean {
  if (isNetworkUnavailable(error)) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    (typeof code === 'string' && unavailableCodes.has(code)) ||
    unavailableMessage.test(error.message)
  );
}

/** Turns "Redis is unreachable" into a ChatError NETWORK_UNAVAILABLE; anything else is a bug and passes. */
export async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (isNetworkUnavailable(error) || !isUnavailable(error)) throw error;
    throw new ChatError('NETWORK_UNAVAILABLE', `redis unavailable: ${(error as Error).message}`, { cause: error });
  }
}
