// The log: core code reports named events with fields; only the CLI picks the sink. Every sink
// escapes every string field (src/core/escape.ts) at this one choke point, so client text
// never reaches a terminal raw, whichever event carries it.

import { escapeText } from './escape.js';

export type LogValue = string | number | boolean | null;
export type LogFields = Record<string, LogValue>;
export type LogLevel = 'info' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields: LogFields): void;
  /** True when nothing is ever written: callers may skip building fields only a line would show. */
  readonly silent?: boolean;
}

export const silentLogger: Logger = { log: () => {}, silent: true };

function escapeFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  // for...in rather than Object.entries: no array of pairs per line (the fields are plain
  // object literals, nothing inherited to skip).
  for (const key in fields) {
    const value = fields[key]!;
    out[key] = typeof value === 'string' ? escapeText(value) : value;
  }
  return out;
}

// The JSON lines' clock: a server logs several lines per client, and formatting a Date is
// most of what a line costs; lines in the same millisecond share one string (the same text
// `new Date().toISOString()` would give).
let isoAtMs = Number.NaN;
let isoText = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoAtMs) {
    isoAtMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

const str = (v: LogValue | undefined): string => (v === undefined || v === null ? '' : String(v));

/** The article's console lines (and a few more); `f` is already escaped. JSON logs carry it too. */
function humanLine(event: string, f: LogFields): string {
  const conn = `#${str(f.id)}`;
  switch (event) {
    case 'server.listening':
      return `${f.protocol === 'irc' ? 'IRC' : 'Socket'} server listening on ${str(f.host)}:${str(f.port)}${f.tls ? ' (TLS)' : ''}`;
    case 'server.failed':
      return `error: ${str(f.message)}`;
    case 'server.error':
      return `server error (${str(f.code)}): ${str(f.message)}; still serving`;
    case 'server.stopping':
      return `Shutting down: no longer accepting, closing ${str(f.live)} connection(s)`;
    case 'memory.reclaimed':
      return `Quiet after a burst: memory given back, heap ${str(f.heapBeforeMiB)} -> ${str(f.heapAfterMiB)} MiB (one full GC, ${str(f.ms)} ms; RSS was ${str(f.rssMiB)} MiB)`;
    case 'server.stopped':
      if (!f.forced) return 'Server stopped.';
      return f.by === 'forced'
        ? 'Server stopped (a second signal: remaining connections destroyed).'
        : 'Server stopped (grace period over, remaining connections destroyed).';
    case 'primary.listening':
      return `${f.protocol === 'irc' ? 'IRC' : 'Socket'} server listening on ${str(f.host)}:${str(f.port)} (${str(f.workers)} workers)`;
    case 'primary.worker':
      return `started worker ${str(f.worker)} (pid ${str(f.pid)})`;
    case 'primary.workerDied':
      return `worker ${str(f.worker)} (pid ${str(f.pid)}) died (${str(f.reason)}); starting a new one`;
    case 'primary.stopping':
      return `Shutting down: asking ${str(f.alive)} worker(s) to drain`;
    case 'primary.stopped':
      return f.forced ? 'All workers stopped (grace period over, the rest were killed).' : 'All workers stopped.';
    case 'inspect.listening':
      return `Inspector: live statecharts at ${str(f.url)}`;
    case 'metrics.listening':
      return `Metrics: Prometheus text at ${str(f.url)}`;
    case 'web.listening':
      return `Web client at ${str(f.url)} (IRC over WebSocket at ${str(f.webSocketUrl)}${f.tls ? ', TLS' : ''})`;
    case 'websocket.opened':
      return `${conn} WebSocket ${f.subprotocol ? str(f.subprotocol) : 'with no subprotocol (text)'}${f.origin ? ` from a page at ${str(f.origin)}` : ''}`;
    case 'websocket.refused':
      return `WebSocket handshake from ${str(f.remote)} refused (${str(f.status)}): ${str(f.reason)}`;
    case 'inspect.ws':
      return `Inspector: streaming inspection events to ${str(f.url)}`;
    case 'connection.opened':
      return `${conn} Connection established from ${str(f.remote)}`;
    case 'connection.reply':
      return `${conn} Client Response Payload: ${str(f.reply)}`;
    case 'connection.error':
      return `${conn} Connection with ${str(f.remote)} failed: ${str(f.code)} (${str(f.errno)})`;
    case 'connection.closed':
      return `${conn} Connection with ${str(f.remote)} closed (${str(f.reason)}).`;
    case 'connection.unclosed':
      return `${conn} connection actor finished with its socket still open; destroyed it`;
    case 'connection.tlsFailed':
      return `TLS handshake failed with ${str(f.remote)} (${str(f.errno)})`;
    case 'connection.crashed':
      return `${conn} session crashed (${str(f.message)}); its connection is closed, everyone else goes on`;
    case 'server.crashed':
      return `error: the server machine crashed (${str(f.message)}); stopping`;
    case 'history.writeFailed':
      return f.entries !== undefined
        ? `History: ${str(f.entries)} message(s) could not be kept (${str(f.message)}); what is said until the store writes again is not kept either, chat goes on`
        : `${conn} History: a message could not be kept (${str(f.message)}); chat goes on`;
    case 'history.recovered':
      return `History: writing again; ${str(f.lost)} message(s) were not kept meanwhile`;
    case 'history.trimmed':
      return `History: ${str(f.entries)} message(s) past --history-max-age or --history-max-per-target removed`;
    case 'history.trimFailed':
      return `History: trimming failed (${str(f.message)}); trying again later`;
    case 'irc.keptRestored':
      return `Always-on: ${str(f.users)} user(s) brought back from the store`;
    case 'irc.keptUnavailable':
      return `Always-on: the kept users could not be read (${str(f.message)}); they come back at their next login`;
    case 'irc.relayed':
      return `${conn} multiclient: its account's user lives on node ${str(f.home)}, which runs its commands from now on`;
    case 'network.crashed':
      return `Network: the Redis link machine crashed (${str(f.message)})`;
    case 'network.indexTaken':
      return `Network: node ${str(f.node)}'s index is now another node's (${str(f.code)}); this node stops writing to the network and stops`;
    case 'irc.registered':
      return `${conn} registered as ${str(f.nick)}`;
    case 'irc.oper':
      return `${conn} ${str(f.source)} is now an IRC operator (${str(f.name)})`;
    case 'irc.operFailed':
      return `${conn} OPER ${str(f.name)} refused for ${str(f.source)}: ${str(f.why)}`;
    case 'irc.operRevoked':
      return `${conn} OPER ${str(f.name)} is gone from the config file: ${str(f.source)} is no longer an operator`;
    case 'irc.kill':
      return `${conn} KILL: ${str(f.by)} killed ${str(f.nick)} (${str(f.reason)})`;
    case 'irc.kline':
      return `${conn} KLINE: ${str(f.by)} banned ${str(f.mask)} ${f.minutes ? `for ${str(f.minutes)} minutes` : 'for good'} (${str(f.reason)}); ${str(f.disconnected)} user(s) disconnected`;
    case 'irc.unkline':
      return `${conn} UNKLINE: ${str(f.by)} removed the ban on ${str(f.mask)}`;
    case 'irc.commandFailed':
      return `${conn} command ${str(f.command)} failed: ${str(f.message)}`;
    case 'network.up':
      return `Network: node ${str(f.node)} connected to ${str(f.url)}`;
    case 'network.down':
      return `Network: Redis at ${str(f.url)} is unreachable; local users told, commands that need the network fail until it is back`;
    case 'network.nodeLost':
      return `Network: node ${str(f.node)} (${str(f.name)}) stopped beating; took its ${str(f.users)} user(s) off the network`;
    case 'network.nickCollision':
      return `${conn} nick ${str(f.nick)} was taken while Redis was away; renamed to ${str(f.now)}`;
    case 'network.publishFailed':
      return `Network: a delivery to other nodes was lost (${str(f.message)})`;
    case 'network.deliveriesLost':
      return `Network: lost ${str(f.count)} message(s) from node ${str(f.origin)}${f.channel ? ` to ${str(f.channel)}` : ''} while the link was down`;
    case 'network.revived':
      return `Network: node ${str(f.node)} had gone silent past --node-timeout and may have been taken for dead; putting its users back`;
    case 'network.storeMismatch':
      return `Network: another node recorded a store other than this node's (${str(f.kind)} ${str(f.where)}) while Redis was empty: the nodes of this network no longer share one store`;
    case 'network.resyncFailed':
      return `Network: re-registering this node's users failed (${str(f.message)}); retrying`;
    case 'irc.networkUnavailable':
      return `${conn} ${str(f.command)} did not run: the network is unreachable`;
    case 'store.opened':
      return `Store: ${str(f.kind)} at ${str(f.where)}`;
    case 'store.unavailable':
      return `Store: ${str(f.kind)} at ${str(f.where)} is unavailable (${str(f.message)}); accounts, logins and channel registrations fail until it is back, network bans apply as last read`;
    case 'store.recovered':
      return `Store: ${str(f.kind)} at ${str(f.where)} answers again`;
    case 'irc.storeUnavailable':
      return `${conn} ${str(f.command)} did not run: the store is unavailable (${str(f.message)})`;
    case 'irc.rehashed':
      return `REHASH: ${str(f.opers)} operator(s) read from ${str(f.file)}`;
    case 'irc.rehashFailed':
      return `REHASH failed: ${str(f.message)}`;
    case 'connection.rejected':
      return `${conn} Turned away ${str(f.remote)}: ${str(f.code)}`;
    default:
      return `${event} ${JSON.stringify(f)}`;
  }
}

export interface SinkOptions {
  out?: (line: string) => void;
  err?: (line: string) => void;
  now?: () => Date;
  /** Which worker process this is (`--workers`): human lines get `[worker N] `, JSON a field. */
  worker?: number;
}

// Lines for stdout and stderr are queued and written once per event-loop turn: a server under
// load logs several lines per client, and on Linux a write to a pipe or a terminal is a
// synchronous syscall each. One queue for both streams keeps their lines in the order they were
// logged; whatever is queued is written when the process exits, however it exits.
let queued: Array<{ stream: NodeJS.WriteStream; text: string }> = [];
let flushQueued = false;
function flushLines(): void {
  flushQueued = false;
  const lines = queued;
  queued = [];
  let i = 0;
  while (i < lines.length) {
    const stream = lines[i]!.stream;
    let text = '';
    for (; i < lines.length && lines[i]!.stream === stream; i++) text += lines[i]!.text;
    if (!gone.has(stream)) stream.write(text);
  }
}
process.on('exit', flushLines);

// A log reader that goes away (`| head`, a log shipper restarted, a closed terminal) makes the
// next write fail with EPIPE, emitted as an 'error' on the stream: with no listener that ends
// the process, and every client's session with it. The server goes on serving; what it would
// have written there is dropped, and the other stream (if it still has a reader) says so once.
const gone = new WeakSet<NodeJS.WriteStream>();
let watching = false;
function watchStreams(): void {
  if (watching) return;
  watching = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', function logStreamOnError(err: NodeJS.ErrnoException) {
      if (gone.has(stream)) return;
      gone.add(stream);
      const [other, name] = stream === process.stdout ? [process.stderr, 'stdout'] : [process.stdout, 'stderr'];
      if (!gone.has(other)) enqueue(other, `Log: ${name} has no reader any more (${err.code ?? err.message}); its lines are dropped, the server goes on\n`);
    });
  }
}

function enqueue(stream: NodeJS.WriteStream, text: string): void {
  queued.push({ stream, text });
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flushLines);
  }
}

function queueLine(stream: NodeJS.WriteStream): (line: string) => void {
  watchStreams();
  return (line) => enqueue(stream, `${line}\n`);
}

export function humanLogger(options: SinkOptions = {}): Logger {
  const out = options.out ?? queueLine(process.stdout);
  const err = options.err ?? queueLine(process.stderr);
  const prefix = options.worker === undefined ? '' : `[worker ${options.worker}] `;
  return {
    log(level, event, fields) {
      (level === 'error' ? err : out)(prefix + humanLine(event, escapeFields(fields)));
    },
  };
}

export function jsonLogger(options: SinkOptions = {}): Logger {
  const out = options.out ?? queueLine(process.stdout);
  const clock = options.now;
  const time = clock ? () => clock().toISOString() : isoNow;
  const worker = options.worker;
  return {
    log(level, event, fields) {
      // JSON.stringify escapes C0 controls but not DEL, C1 or bidi characters: escape first.
      const safe = escapeFields(fields);
      // Keys in this order: time, level, event, message, worker, then the fields (a field
      // named like one of the first keeps that key's place, as a spread would).
      const line: LogFields = { time: time(), level, event, message: humanLine(event, safe) };
      if (worker !== undefined) line.worker = worker;
      for (const key in safe) line[key] = safe[key]!;
      out(JSON.stringify(line));
    },
  };
}
