// Every default and every limit of the server, in one place. Each limit names its unit and says
// what happens when it is hit; the README's flag table mirrors this file (a test checks it).

export interface ServerConfig {
  /** Interface to listen on. `localhost` as in the article. */
  host: string;
  /** TCP port; 0 asks the kernel for a free one (the real port is logged). */
  port: number;
  /** First line sent to every client (a newline is appended on the wire). */
  greeting: string;
  /**
   * Largest reply accepted, in bytes, not counting the line ending. A client that sends more
   * without a newline gets `error REPLY_TOO_LONG` and is closed; the buffer never holds more.
   */
  maxReplyBytes: number;
  /**
   * Total time a client has, from accept, to send its reply. Not reset by each byte, so a
   * client trickling one byte a second is still closed (`error REPLY_TIMEOUT`).
   */
  replyTimeoutMs: number;
  /**
   * How long a client may go quiet after sending bytes with no newline before what it sent is
   * taken as its reply (the article's single `recv` returned whatever had arrived).
   */
  replyQuietMs: number;
  /**
   * Clients served at once. One more is sent `error SERVER_BUSY` and closed; the others are
   * served as usual. Keep it under the process's descriptor limit (`ulimit -n`).
   */
  maxConnections: number;
  /**
   * After the server has said goodbye (or an error) and ended its side, how long it waits for
   * the client to close before it destroys the socket. Protects against clients that never
   * read and never close.
   */
  closeTimeoutMs: number;
  /**
   * On SIGINT/SIGTERM, how long open connections get to finish their goodbye before they are
   * destroyed and the process exits anyway.
   */
  shutdownGraceMs: number;
  /**
   * Completed handshakes the kernel queues for us before we accept them (`listen()` backlog;
   * Linux caps it at net.core.somaxconn). When it is full the kernel drops new SYNs and those
   * clients retry after a second, so a burst of clients needs room here. Node's default is 511.
   */
  listenBacklog: number;
  /** `human` lines like the article's, or one JSON object per line. */
  logFormat: 'human' | 'json';
  /**
   * Where to serve the live inspection page (`--inspect [host:]port`), or null for off. Off
   * means no inspection observer is attached at all: with one, actors run about half as fast.
   */
  inspect: { host: string; port: number } | null;
  /** WebSocket URL to stream XState inspection events to (Stately's inspector), or null. */
  inspectWs: string | null;
  /**
   * Server processes sharing the port (`--workers N|auto`, node:cluster). 1 runs the server in
   * this process; more start a primary that keeps N workers running and restarts any that die.
   * maxConnections applies per worker.
   */
  workers: number;
}

export const defaultConfig: Readonly<ServerConfig> = Object.freeze({
  host: 'localhost',
  port: 8028,
  greeting: "Hey What's up?",
  maxReplyBytes: 4096,
  replyTimeoutMs: 30_000,
  replyQuietMs: 250,
  maxConnections: 10_000,
  closeTimeoutMs: 2_000,
  shutdownGraceMs: 5_000,
  listenBacklog: 2_048,
  logFormat: 'human',
  inspect: null,
  inspectWs: null,
  workers: 1,
});

/** What a connection actor needs to know; derived from ServerConfig. */
export interface ConnectionLimits {
  greeting: string;
  maxReplyBytes: number;
  replyTimeoutMs: number;
  replyQuietMs: number;
  closeTimeoutMs: number;
}

export function connectionLimits(config: ServerConfig): ConnectionLimits {
  const { greeting, maxReplyBytes, replyTimeoutMs, replyQuietMs, closeTimeoutMs } = config;
  return { greeting, maxReplyBytes, replyTimeoutMs, replyQuietMs, closeTimeoutMs };
}
