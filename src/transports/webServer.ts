// The web side of the chat server (`--websocket [host:]port`), its only HTTP code outside the
// live view and metrics. One HTTP server serves the web client at `/` (the built files of
// src/browser/webClient/, always read from dist/: src/core/pageFiles.ts) and upgrades
// WebSocket handshakes (ws, with noServer) once their Origin passes (src/transports/handshake.ts),
// then hands each client to the listener as a WebSocketTransport (ServerHandle.adopt). It
// decides nothing about sessions: an adopted client is counted, capped, turned away and drained
// by the server machine, and served by the IRC session machine, like a TCP client. Listeners
// are attached in `listenOn`, named `serverOn<Event>`.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ServerConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { checkOrigin, chooseSubprotocol, type IrcSubprotocol } from './handshake.js';
import { pageFiles } from '../core/pageFiles.js';
import { dropFailedHandshake, formatRemote } from '../core/listener.js';
import type { Transport } from '../core/transport.js';
import { WebSocketTransport } from './webSocketTransport.js';

/** Who takes the clients: the listener (ServerHandle), or anything that can adopt a Transport. */
export interface Adopter {
  adopt(client: Transport): number;
}

export interface WebServer {
  /** The web client's address, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** Where IRC clients connect, e.g. `ws://127.0.0.1:8080/`. */
  readonly webSocketUrl: string;
  readonly port: number;
  /** From now on clients are handed to `target`; before, a handshake is answered 503. */
  attach(target: Adopter): void;
  /** Stops accepting and closes what is left (the sessions are the listener's to drain). */
  close(): Promise<void>;
}

export type WebServerConfig = Pick<
  ServerConfig,
  'websocketOrigins' | 'websocketMaxMessageBytes' | 'websocketHandshakeTimeoutMs' | 'tlsCert' | 'tlsKey' | 'tlsHandshakeTimeoutMs'
> & { websocket: { host: string; port: number } };

// The page runs only its own script and style, talks only to this origin, and cannot be framed.
const securityHeaders = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** Answers a handshake that will not become a session: status, one line saying why, closed. */
function refuse(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\n\r\n${body}`,
  );
}

function ignoreError(): void {
  // A handshake socket that fails is simply gone; it never was a session.
}

export function startWebServer(config: WebServerConfig, logger: Logger): Promise<WebServer> {
  const { host, port } = config.websocket;
  let files: ReturnType<typeof pageFiles>;
  try {
    files = pageFiles('webClient');
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const secure = config.tlsCert !== null && config.tlsKey !== null;
  // A client that trickles its request headers (slowloris) is dropped with 408 once
  // headersTimeout has passed; Node checks every connectionsCheckingInterval (30 s by default,
  // which would let each one hold a descriptor that much longer).
  const limits: http.ServerOptions = {
    headersTimeout: config.websocketHandshakeTimeoutMs,
    requestTimeout: config.websocketHandshakeTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, config.websocketHandshakeTimeoutMs),
  };
  const server: http.Server = secure
    ? https.createServer({
        ...limits,
        cert: readFileSync(config.tlsCert!),
        key: readFileSync(config.tlsKey!),
        handshakeTimeout: config.tlsHandshakeTimeoutMs,
      })
    : http.createServer(limits);
  // A failed or timed-out TLS handshake is logged and closed as on the IRC port (Node's https
  // server closes it itself only while nobody listens for this event).
  if (secure) server.on('tlsClientError', dropFailedHandshake(logger));
  const wss = new WebSocketServer({
    noServer: true,
    // The listener tracks its sessions; ws keeping a Set of them too would only cost memory.
    clientTracking: false,
    maxPayload: config.websocketMaxMessageBytes,
    perMessageDeflate: false,
    handleProtocols: (offered) => chooseSubprotocol(offered) ?? false,
  });
  let target: Adopter | null = null;

  function serverOnRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = files.get(path);
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...securityHeaders });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
    if (!file) return send(404, 'text/plain; charset=utf-8', 'not found\n');
    send(200, file.type, file.body);
  }

  function serverOnUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignoreError);
    const raw = socket as net.Socket;
    const origin = req.headers.origin;
    const remote = formatRemote(raw.remoteAddress, raw.remotePort);
    const turnDown = (status: number, reason: string): void => {
      logger.log('info', 'websocket.refused', { remote, status, origin: origin ?? '', reason });
      refuse(socket, status, reason);
    };
    if (!target) return turnDown(503, 'the chat server is not ready yet, try again shortly');
    const verdict = checkOrigin({ origin, host: req.headers.host, secure }, config.websocketOrigins);
    if (!verdict.allowed) return turnDown(403, verdict.reason);
    const adopter = target;
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', ignoreError);
      const subprotocol = (ws.protocol || null) as IrcSubprotocol | null;
      const id = adopter.adopt(new WebSocketTransport(ws, raw, subprotocol));
      if (!logger.silent) {
        logger.log('info', 'websocket.opened', { id, remote, subprotocol: subprotocol ?? '', origin: origin ?? '' });
      }
    });
  }

  function listenOn(s: http.Server): void {
    s.on('request', serverOnRequest);
    s.on('upgrade', serverOnUpgrade);
  }

  listenOn(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      // Later errors (EMFILE on accept) must not crash the process; Node keeps listening.
      server.on('error', (err: NodeJS.ErrnoException) =>
        logger.log('error', 'server.error', { code: err.code ?? 'UNKNOWN', message: `websocket: ${err.message}` }),
      );
      const address = server.address() as AddressInfo;
      const where = formatRemote(address.address, address.port);
      resolve({
        url: `${secure ? 'https' : 'http'}://${where}/`,
        webSocketUrl: `${secure ? 'wss' : 'ws'}://${where}/`,
        port: address.port,
        attach(adopter) {
          target = adopter;
        },
        close: () =>
          new Promise<void>((done) => {
            target = null;
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
