// The IRC fan-out benchmark's floor (bench/irc/run.ts): a bare node:net IRC relay with just
// enough IRC for the benchmark's clients, and nothing else. No machines, no validation, no flood
// control, no sendq, no casemapping: what a naive relay costs in Node, so the figures for ours
// can be read as ratios against it.
//   NICK + USER  → 001 and 376 (registered)
//   JOIN #a,#b   → `:nick!user@host JOIN #c` to every member (the joiner too), then 366
//   PRIVMSG #c   → `:nick!user@host PRIVMSG #c :text` to every other member
//   PING x       → PONG
//   QUIT         → QUIT to the members of its channels, ERROR, close (a close without QUIT too)
// Anything else is ignored. Like a naive relay it writes each line to each member as it comes:
// one socket.write per line per member (the line is encoded once, not per member). The one
// bound it keeps is on a partial line (maxLineBytes), so a client without newlines cannot grow
// it; a client that never reads does grow its write buffer without limit: this is a floor, not
// a server.
//
//   node dist/bench/irc/bareIrcRelay.js [--host 127.0.0.1] [--port 0]
// prints `listening <port>` once it listens; SIGTERM or SIGINT closes everything and exits 0.

import net from 'node:net';
import { parseArgs } from 'node:util';
import { listenOn } from '../lib/loopback.js';

interface BareIrcRelayOptions {
  host: string;
  /** 0 asks the kernel for a free port. */
  port: number;
  /** listen() backlog. */
  backlog: number;
}

interface BareIrcRelayHandle {
  readonly listening: Promise<{ address: string; port: number }>;
  /** Stops accepting, destroys every connection and resolves once the listener has closed. */
  shutdown(): Promise<void>;
  liveConnections(): number;
}

const serverName = 'bare.relay';
/** A partial line longer than this closes the connection (the relay's one bound). */
const maxLineBytes = 8 * 1024;
const LF = 0x0a;

interface Member {
  readonly socket: net.Socket;
  readonly host: string;
  nick: string | null;
  user: string | null;
  /** `nick!user@host`, set at registration. */
  prefix: string;
  registered: boolean;
  /** Names of the channels it is in. */
  readonly channels: Set<string>;
  /** Bytes after the last newline, waiting for the rest of their line. */
  partial: Buffer | null;
  gone: boolean;
}

/** The first parameter of `rest` (the text after the command), or the trailing one. */
function firstParam(rest: string): string {
  if (rest.startsWith(':')) return rest.slice(1);
  const sp = rest.indexOf(' ');
  return sp === -1 ? rest : rest.slice(0, sp);
}

/** The trailing parameter (after ` :`), or the last word when there is none. */
function trailingParam(rest: string): string {
  if (rest.startsWith(':')) return rest.slice(1);
  const colon = rest.indexOf(' :');
  if (colon !== -1) return rest.slice(colon + 2);
  const sp = rest.lastIndexOf(' ');
  return sp === -1 ? rest : rest.slice(sp + 1);
}

function startBareIrcRelay(options: BareIrcRelayOptions): BareIrcRelayHandle {
  const live = new Set<Member>();
  const channels = new Map<string, Set<Member>>();

  function write(m: Member, line: string | Buffer): void {
    if (!m.gone) m.socket.write(line);
  }

  function toChannel(name: string, line: string, except: Member | null): void {
    const members = channels.get(name);
    if (!members) return;
    const bytes = Buffer.from(line);
    for (const other of members) if (other !== except) write(other, bytes);
  }

  /** Leaves every channel, telling the members who stay. */
  function depart(m: Member, reason: string): void {
    const told = new Set<Member>();
    const bytes = Buffer.from(`:${m.prefix} QUIT :${reason}\r\n`);
    for (const name of m.channels) {
      const members = channels.get(name);
      if (!members) continue;
      members.delete(m);
      if (members.size === 0) channels.delete(name);
      for (const other of members) {
        if (told.has(other)) continue;
        told.add(other);
        write(other, bytes);
      }
    }
    m.channels.clear();
  }

  function maybeWelcome(m: Member): void {
    if (m.registered || m.nick === null || m.user === null) return;
    m.registered = true;
    m.prefix = `${m.nick}!${m.user}@${m.host}`;
    write(m, `:${serverName} 001 ${m.nick} :Welcome, ${m.prefix}\r\n:${serverName} 376 ${m.nick} :End of /MOTD command.\r\n`);
  }

  function onLine(m: Member, line: string): void {
    const sp = line.indexOf(' ');
    const command = (sp === -1 ? line : line.slice(0, sp)).toUpperCase();
    const rest = sp === -1 ? '' : line.slice(sp + 1);
    switch (command) {
      case 'NICK':
        if (!m.registered) m.nick = firstParam(rest);
        maybeWelcome(m);
        return;
      case 'USER':
        if (!m.registered) m.user = firstParam(rest);
        maybeWelcome(m);
        return;
      case 'JOIN':
        if (!m.registered) return;
        for (const name of firstParam(rest).split(',')) {
          if (name === '' || m.channels.has(name)) continue;
          let members = channels.get(name);
          if (!members) {
            members = new Set();
            channels.set(name, members);
          }
          members.add(m);
          m.channels.add(name);
          toChannel(name, `:${m.prefix} JOIN ${name}\r\n`, null);
          write(m, `:${serverName} 366 ${m.nick} ${name} :End of /NAMES list.\r\n`);
        }
        return;
      case 'PRIVMSG': {
        if (!m.registered) return;
        const target = firstParam(rest);
        if (m.channels.has(target)) toChannel(target, `:${m.prefix} PRIVMSG ${target} :${trailingParam(rest)}\r\n`, m);
        return;
      }
      case 'PING':
        write(m, `:${serverName} PONG ${serverName} :${trailingParam(rest)}\r\n`);
        return;
      case 'QUIT':
        depart(m, `Quit: ${trailingParam(rest)}`);
        write(m, 'ERROR :Closing link\r\n');
        m.gone = true;
        m.socket.end();
        return;
    }
  }

  function onData(m: Member, chunk: Buffer): void {
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf === -1) {
      m.partial = m.partial ? Buffer.concat([m.partial, chunk]) : chunk;
      if (m.partial.length > maxLineBytes) m.socket.destroy();
      return;
    }
    const whole = m.partial ? Buffer.concat([m.partial, chunk.subarray(0, lastLf)]) : chunk.subarray(0, lastLf);
    m.partial = lastLf + 1 < chunk.length ? chunk.subarray(lastLf + 1) : null;
    for (const raw of whole.toString('utf8').split('\n')) {
      if (m.gone) return;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line !== '') onLine(m, line);
    }
  }

  const server = net.createServer(function serverOnConnection(socket) {
    const m: Member = {
      socket,
      host: socket.remoteAddress ?? 'unknown',
      nick: null,
      user: null,
      prefix: '',
      registered: false,
      channels: new Set(),
      partial: null,
      gone: false,
    };
    live.add(m);
    // As ours does: lines go out when written, not held back until the previous one is ACKed.
    socket.setNoDelay(true);
    socket.on('data', function socketOnData(chunk: Buffer) {
      onData(m, chunk);
    });
    socket.on('error', function socketOnError() {
      // Node destroys the socket and emits 'close'.
    });
    socket.on('close', function socketOnClose() {
      m.gone = true;
      live.delete(m);
      depart(m, 'Connection closed');
    });
  });

  const listening = listenOn(server, options);

  return {
    listening,
    shutdown: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const m of live) m.socket.destroy();
      }),
    liveConnections: () => live.size,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      backlog: { type: 'string', default: '2048' },
    },
  });
  const relay = startBareIrcRelay({ host: values.host!, port: Number(values.port), backlog: Number(values.backlog) });
  const { port } = await relay.listening;
  process.stdout.write(`listening ${port}\n`);
  const stop = (): void => {
    void relay.shutdown().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bareIrcRelay: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
