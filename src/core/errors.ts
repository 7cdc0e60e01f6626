// The one error type of the project. Each failure has a stable `code` (listed in the README) so
// that logs, tests and clients can match on it without parsing prose.

export const errorCodes = {
  REPLY_TOO_LONG: 'the reply passed maxReplyBytes before its line ended',
  REPLY_TIMEOUT: 'no complete reply within replyTimeoutMs',
  SERVER_BUSY: 'maxConnections clients are already being served',
  SHUTTING_DOWN: 'the server is shutting down',
  SOCKET_ERROR: 'the connection failed at the socket level (reset, broken pipe, ...)',
  ADDRESS_IN_USE: 'another process holds the host:port',
  ADDRESS_NOT_AVAILABLE: 'the host is not an address of this machine',
  PERMISSION_DENIED: 'the process may not listen on that port',
  HOST_NOT_FOUND: 'the host name did not resolve',
  LISTEN_FAILED: 'listening failed for another reason',
  INVALID_ARGUMENT: 'a command-line flag was missing, unknown or out of range',
  CONNECT_FAILED: 'the client could not reach the server',
  NETWORK_UNAVAILABLE: 'IRC on Redis: the shared network state could not be reached',
  STORE_UNAVAILABLE: 'the store (SQLite in --data-dir, or PostgreSQL) could not be opened, read or written',
  STORE_MISMATCH: 'IRC on Redis: this node uses another store than the nodes already on the network',
  NODE_INDEX_TAKEN: 'IRC on Redis: another node holds this node\'s index (Redis came back empty and a newcomer drew it); the node stops',
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class ChatError extends Error {
  override readonly name = 'ChatError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The line sent to a client on the wire: `error CODE: message`. */
  toWireLine(): string {
    return `error ${this.code}: ${this.message}\n`;
  }
}

/** Redis (the network state of `--redis`) could not be reached: not a bug, the command did not run. */
export function isNetworkUnavailable(err: unknown): err is ChatError {
  return err instanceof ChatError && err.code === 'NETWORK_UNAVAILABLE';
}

/**
 * Turns a failed `listen()` (its errno code and message) into one clear sentence for the
 * operator, e.g. `port 8028 is already in use on localhost`.
 */
export function listenFailure(errno: string, message: string, host: string, port: number): ChatError {
  switch (errno) {
    case 'EADDRINUSE':
      return new ChatError('ADDRESS_IN_USE', `port ${port} is already in use on ${host}`);
    case 'EADDRNOTAVAIL':
      return new ChatError('ADDRESS_NOT_AVAILABLE', `address ${host} is not available on this machine`);
    case 'EACCES':
    case 'EPERM':
      return new ChatError('PERMISSION_DENIED', `permission denied to listen on port ${port}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new ChatError('HOST_NOT_FOUND', `host ${host} could not be resolved`);
    default:
      return new ChatError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${message}`);
  }
}
