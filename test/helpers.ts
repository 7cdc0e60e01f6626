// Real-socket helpers for the integration tests: a server on port 0 with its log captured, and
// a raw TCP client that records every byte it receives.
import net from 'node:net';
import { defaultConfig, type IrcConfig, type ServerConfig } from '../src/core/config.js';
import { startServer, type ServerHandle, type ServerOptions } from '../src/core/listener.js';
import { humanLogger, silentLogger } from '../src/core/logger.js';
import { greetingProtocol } from '../src/greeting/session.js';
import { ircProtocol } from '../src/irc/session/protocol.js';
import type { NetworkState } from '../src/irc/state/networkState.js';
import type { Store } from '../src/store/store.js';
import { testStore } from './store/tempStore.js';

export interface ServeOptions extends ServerOptions {
  /** IRC: the network state to run on (a proxy that answers late, ...); in memory if unset. */
  ircState?: NetworkState;
  /** IRC: the store; the process's temporary SQLite store if unset (test/store/tempStore.ts). */
  store?: Store;
}

/**
 * startServer with the protocol `config.protocol` names, built as the CLI builds it (IRC on
 * an in-memory state unless `ircState` is given).
 */
export function serve(config: ServerConfig, options: ServeOptions = {}): ServerHandle {
  const logger = options.logger ?? silentLogger;
  const store = options.store ?? testStore();
  const protocol =
    config.protocol === 'irc'
      ? ircProtocol(config, logger, options.inspect, {
          store,
          // Unbuffered: each message written as it is delivered (the CLI buffers: service.ts).
          ...(config.irc.history === 'on' ? { history: store.history } : {}),
          ...(options.ircState ? { state: options.ircState } : {}),
        })
      : greetingProtocol(config, logger, options.inspect);
  return startServer(config, protocol, options);
}

export interface TestServer {
  handle: ServerHandle;
  port: number;
  /** Human log lines as an operator would see them (stdout and stderr together). */
  lines: string[];
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}, options: ServeOptions = {}): Promise<TestServer> {
  const lines: string[] = [];
  const logger = humanLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) });
  const handle = serve({ ...defaultConfig, host: '127.0.0.1', port: 0, ...overrides }, { logger, ...options });
  const { port } = await handle.listening;
  return {
    handle,
    port,
    lines,
    async stop() {
      handle.shutdown();
      await handle.done;
    },
  };
}

/** The chat server (`--protocol irc`) on port 0, with IRC settings overridden as given. */
export function startIrcTestServer(
  irc: Partial<IrcConfig> = {},
  overrides: Partial<ServerConfig> = {},
  options: ServeOptions = {},
): Promise<TestServer> {
  return startTestServer({ protocol: 'irc', irc: { ...defaultConfig.irc, ...irc }, ...overrides }, options);
}

export interface RawClient {
  socket: net.Socket;
  /** Every byte received so far, as latin1-safe UTF-8 text. */
  text(): string;
  /** Resolves once `needle` has been received. */
  waitForText(needle: string, timeoutMs?: number): Promise<string>;
  /** Resolves when the socket has fully closed, with everything received. */
  closed: Promise<string>;
}

export function connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host });
    const chunks: Buffer[] = [];
    const text = () => Buffer.concat(chunks).toString('utf8');
    const waiters = new Set<() => void>();
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      for (const w of [...waiters]) w();
    });
    socket.on('error', () => {});
    const closed = new Promise<string>((res) => socket.on('close', () => res(text())));
    socket.once('connect', () =>
      resolve({
        socket,
        text,
        closed,
        waitForText(needle, timeoutMs = 5_000) {
          return new Promise((res, rej) => {
            const check = () => {
              if (text().includes(needle)) {
                waiters.delete(check);
                clearTimeout(timer);
                res(text());
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`did not receive ${JSON.stringify(needle)}; got ${JSON.stringify(text())}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
      }),
    );
    socket.once('error', reject);
  });
}

export async function waitFor(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One whole exchange, as the article's client does it. */
export async function converse(port: number, reply: string): Promise<string> {
  const client = await connect(port);
  await client.waitForText('\n');
  client.socket.write(reply);
  return client.closed;
}
