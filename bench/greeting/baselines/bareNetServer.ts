// The benchmark's baseline: the same greeting protocol as the real server (greet, read the first
// line up to maxLineBytes, close) written directly on node:net, with no state machines and no
// xstate. It is what a careful hand-written server costs, so the figures for ours can be read as
// ratios against it. It keeps the same limits as ours (a per-connection reply deadline timer and
// a bounded line buffer) so that the comparison is about structure, not about missing features.

import net from 'node:net';
import { listenOn } from '../../lib/loopback.js';

export interface BareServerOptions {
  host: string;
  /** 0 asks the kernel for a free port. */
  port: number;
  /** Sent first, a newline is appended on the wire. */
  greeting: string;
  /** Longest reply line kept, in bytes; a longer one closes the connection. */
  maxLineBytes: number;
  /** listen() backlog; the benchmark gives both servers the same one. */
  backlog: number;
  /** Time from accept to a complete line before the connection is closed. */
  replyTimeoutMs: number;
  /** Called with each reply line (the benchmark passes a no-op, as ours gets a silent logger). */
  onReply: (line: string) => void;
}

export interface BareServerHandle {
  readonly listening: Promise<{ address: string; port: number }>;
  /** Stops accepting, ends every connection and resolves once the listener has closed. */
  shutdown(): Promise<void>;
  liveConnections(): number;
}

const LF = 0x0a;
const CR = 0x0d;

export function startBareServer(options: BareServerOptions): BareServerHandle {
  const live = new Set<net.Socket>();
  const greetingBytes = Buffer.from(`${options.greeting}\n`);

  const server = net.createServer(function serverOnConnection(socket) {
    live.add(socket);
    let buffered: Buffer | null = null;
    let done = false;
    const deadline = setTimeout(() => finish(), options.replyTimeoutMs);

    function finish(): void {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      buffered = null;
      socket.end();
    }

    socket.on('error', () => {
      // Node destroys the socket and emits 'close'; nothing else to do.
    });
    socket.on('data', function socketOnData(chunk: Buffer) {
      if (done) return;
      const lf = chunk.indexOf(LF);
      if (lf === -1) {
        buffered = buffered ? Buffer.concat([buffered, chunk]) : Buffer.from(chunk);
        if (buffered.length > options.maxLineBytes + 1) finish();
        return;
      }
      let line = buffered ? Buffer.concat([buffered, chunk.subarray(0, lf)]) : chunk.subarray(0, lf);
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      if (line.length <= options.maxLineBytes) options.onReply(line.toString('utf8'));
      finish();
    });
    socket.on('close', function socketOnClose() {
      clearTimeout(deadline);
      live.delete(socket);
    });
    socket.write(greetingBytes);
  });

  const listening = listenOn(server, options);

  return {
    listening,
    shutdown: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of live) socket.destroy();
      }),
    liveConnections: () => live.size,
  };
}
