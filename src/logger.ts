// The log: core code reports named events with fields; only the CLI picks the sink. Every sink
// escapes every string field (src/protocol/escape.ts) at this one choke point, so client text
// never reaches a terminal raw, whichever event carries it.

import { escapeText } from './protocol/escape.js';

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
  for (const [key, value] of Object.entries(fields)) out[key] = typeof value === 'string' ? escapeText(value) : value;
  return out;
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
    case 'server.stopped':
      return f.forced ? 'Server stopped (grace period over, remaining connections destroyed).' : 'Server stopped.';
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
    case 'irc.registered':
      return `${conn} registered as ${str(f.nick)}`;
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
    case 'network.resyncFailed':
      return `Network: re-registering this node's users failed (${str(f.message)}); retrying`;
    case 'irc.networkUnavailable':
      return `${conn} ${str(f.command)} did not run: the network is unreachable`;
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

export function humanLogger(options: SinkOptions = {}): Logger {
  const out = options.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const err = options.err ?? ((line: string) => process.stderr.write(line + '\n'));
  const prefix = options.worker === undefined ? '' : `[worker ${options.worker}] `;
  return {
    log(level, event, fields) {
      (level === 'error' ? err : out)(prefix + humanLine(event, escapeFields(fields)));
    },
  };
}

export function jsonLogger(options: SinkOptions = {}): Logger {
  const out = options.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  return {
    log(level, event, fields) {
      // JSON.stringify escapes C0 controls but not DEL, C1 or bidi characters: escape first.
      const safe = escapeFields(fields);
      const worker = options.worker === undefined ? {} : { worker: options.worker };
      out(JSON.stringify({ time: now().toISOString(), level, event, message: humanLine(event, safe), ...worker, ...safe }));
    },
  };
}
