// The soak test's server configuration, shared by the forked server (server.ts) and
// the clients (clients.ts), which must know the server's timeouts to tell an expected
// close from a stuck one. Short timeouts so that hostile clients cycle in seconds, not minutes.

import { defaultConfig, type ServerConfig } from '../../src/core/config.js';

export const soakServerConfig: Readonly<ServerConfig> = Object.freeze({
  ...defaultConfig,
  host: '127.0.0.1',
  port: 0,
  /** A silent or trickling client is answered `error REPLY_TIMEOUT` after this. */
  replyTimeoutMs: 2_000,
  /** A client that never reads and never closes is destroyed this long after our FIN. */
  closeTimeoutMs: 1_000,
});
