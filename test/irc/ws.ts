// A raw IRC-over-WebSocket client for the tests (the `ws` library's client): it sends each line
// as one message, records every message received (with whether it came as a binary frame),
// and waits that fail naming what was awaited; plus a bare handshake that reports the HTTP
// answer of a refused upgrade.
import WebSocket from 'ws';
import { untagged, waitForLineIn } from './raw.js';

export interface WsIrc {
  ws: WebSocket;
  /** The negotiated subprotocol ('' for none). */
  protocol: string;
  /** Every message received, in order. */
  messages: Array<{ text: string; binary: boolean }>;
  /** The lines received, without their tag section. */
  lines(): string[];
  send(...lines: string[]): void;
  /** Resolves with the first line (after the `from`th) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** NICK + USER, resolves at the end of the MOTD (376 or 422). */
  register(nick: string): Promise<void>;
  /** Resolves when the connection has closed, with its close code. */
  closed: Promise<{ code: number; reason: string }>;
}

export interface WsOptions {
  /** Subprotocols to ask for, most preferred first; none by default. */
  protocols?: string[];
  /** The Origin header; undefined sends none (the ws client sends none unless told). */
  origin?: string;
  /** Trusted CA for wss:// (the test's self-signed certificate). */
  ca?: Buffer;
}


export function connectWs(url: string, options: WsOptions = {}): Promise<WsIrc> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], {
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
    });
    const messages: WsIrc['messages'] = [];
    ws.on('message', (data: Buffer, binary: boolean) => messages.push({ text: data.toString('utf8'), binary }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(new Error(`handshake refused: ${res.statusCode} ${body.trim()}`)));
    });
    const closed = new Promise<{ code: number; reason: string }>((res) =>
      ws.on('close', (code, reason) => res({ code, reason: reason.toString() })),
    );
    ws.on('error', (err) => reject(err));
    const lines = () => messages.map((m) => untagged(m.text));
    const client: WsIrc = {
      ws,
      protocol: '',
      messages,
      lines,
      closed,
      send: (...ls) => {
        for (const l of ls) ws.send(l);
      },
      waitForLine: (pattern, timeoutMs, from) => waitForLineIn(lines, pattern, timeoutMs, from),
      async register(nick) {
        client.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick} over WebSocket`);
        await client.waitForLine(/^\S+ (376|422) /);
      },
    };
    ws.on('open', () => {
      client.protocol = ws.protocol;
      resolve(client);
    });
  });
}

/** The HTTP status and one-line body a refused WebSocket handshake gets (or 101). */
export function handshake(url: string, options: WsOptions = {}): Promise<{ status: number; body: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], {
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
    });
    ws.on('upgrade', (res) => {
      const header = res.headers['sec-websocket-protocol'];
      resolve({ status: 101, body: '', protocol: typeof header === 'string' ? header : null });
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol: null }));
    });
    ws.on('error', (err) => {
      // The upgrade was already reported; anything after it (terminate) does not matter.
      if (!/closed before the connection was established/.test(err.message)) reject(err);
    });
  });
}
