// The companion client's socket side (the article's py_chat_client.py): connect, wait for the
// greeting, send one message, pass on everything the server says until it closes. It lives in
// adapters/ because it touches node:net; printing and stdin belong to the CLI.

import net from 'node:net';
import { ChatError } from '../core/errors.js';

export interface TalkOptions {
  host: string;
  port: number;
  /** Give up when the server says nothing for this long. */
  timeoutMs: number;
  /** Asked once, after the greeting arrives: the message to send, or null to send nothing. */
  message: () => Promise<string | null>;
  /** Called with server text as it arrives (decoded UTF-8, raw: escape before printing). */
  onText: (text: string) => void;
}

function connectFailure(err: NodeJS.ErrnoException, host: string, port: number, connected: boolean): ChatError {
  const where = `${host}:${port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return new ChatError('CONNECT_FAILED', `cannot connect to ${where}: connection refused (is the server running?)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ChatError('CONNECT_FAILED', `cannot connect to ${where}: host ${host} could not be resolved`);
    case 'ECONNRESET':
      return new ChatError('CONNECT_FAILED', `connection to ${where} was reset by the server`);
    case 'ETIMEDOUT':
      return new ChatError('CONNECT_FAILED', `${connected ? 'no answer from' : 'cannot connect to'} ${where}: timed out`);
    default:
      return new ChatError('CONNECT_FAILED', `${connected ? 'connection to' : 'cannot connect to'} ${where} failed: ${err.message}`);
  }
}

/** Resolves when the server has closed the connection; rejects with a CONNECT_FAILED ChatError. */
export function talk(options: TalkOptions): Promise<void> {
  const { host, port, timeoutMs } = options;
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder('utf-8');
    const socket = net.connect({ host, port });
    let connected = false;
    let asked = false;
    let failure: ChatError | null = null;

    socket.setTimeout(timeoutMs);
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('timeout', () => {
      const err = Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
      socket.destroy(err);
    });
    socket.on('data', (chunk: Buffer) => {
      options.onText(decoder.decode(chunk, { stream: true }));
      if (asked) return;
      asked = true;
      options.message().then(
        (message) => {
          if (socket.destroyed) return;
          if (message === null) socket.end();
          else socket.write(`${message}\n`);
        },
        (err: unknown) => socket.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    });
    socket.on('end', () => {
      const rest = decoder.decode();
      if (rest) options.onText(rest);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure = connectFailure(err, host, port, connected);
    });
    socket.on('close', () => (failure ? reject(failure) : resolve()));
  });
}
