// Command-line flags of the server and the client: one table each, from which parsing, range
// checks and the usage text are all derived (the README's table is checked against it).
// Parsing is pure: argv in, config or a usage error out; the CLI decides what to print.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultConfig, defaultIrcPort, protocolNames, type IrcConfig, type ServerConfig } from '../core/config.js';
import { ChatError } from '../core/errors.js';
import { anyOrigin, normaliseOrigin } from '../transports/handshake.js';

/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Kind =
  | { type: 'int'; min: number; max: number }
  /** `[host:]port`, host defaulting to 127.0.0.1 (loopback: the page is for the operator). */
  | { type: 'hostPort' }
  /** Comma-separated `host:port`s, each with its host (Redis Sentinels). */
  | { type: 'hostPorts' }
  /** A URL with one of these schemes (e.g. `ws`, `wss`). */
  | { type: 'url'; schemes: readonly string[] }
  /** A count, or `auto` for one per core. */
  | { type: 'countOrAuto'; max: number }
  | { type: 'text'; allowEmpty: boolean; word?: true }
  /** A file path (read later by the CLI, which says clearly when it cannot be). */
  | { type: 'path' }
  /** A positive number, fractions allowed. */
  | { type: 'rate'; min: number; max: number }
  /** Comma-separated page origins (`https://chat.example`), or `*` for any. */
  | { type: 'origins' }
  | { type: 'choice'; choices: readonly string[] };

export interface FlagSpec<K extends string> {
  flag: string;
  key: K;
  value: string;
  kind: Kind;
  help: string;
}

/** A top-level config key, or `irc.<key>` for IRC mode's settings. */
export type ConfigKey = Exclude<keyof ServerConfig, 'irc'> | `irc.${Exclude<keyof IrcConfig, 'motd'>}`;

/** The value at a flag's key: `irc.sendqBytes` reads options.irc.sendqBytes. */
function valueAt(options: object, key: string): unknown {
  const record = options as Record<string, unknown>;
  if (!key.startsWith('irc.')) return record[key];
  return ((record.irc ?? {}) as Record<string, unknown>)[key.slice(4)];
}

/** The value of a config key (`irc.sendqBytes` reads config.irc.sendqBytes). */
export function configValue(config: ServerConfig, key: ConfigKey): unknown {
  return valueAt(config, key);
}

const ms = (min: number): Kind => ({ type: 'int', min, max: MAX_TIMER_MS });

export const serverFlags: FlagSpec<ConfigKey>[] = [
  {
    flag: '--protocol',
    key: 'protocol',
    value: protocolNames.join('|'),
    kind: { type: 'choice', choices: protocolNames },
    help: "the article's greeting server, or the IRC chat server (port 6667 unless --port)",
  },
  { flag: '--config', key: 'configFile', value: 'FILE', kind: { type: 'path' }, help: 'read settings from this YAML file (keys as these flags; flags win)' },
  { flag: '--host', key: 'host', value: 'HOST', kind: { type: 'text', allowEmpty: false }, help: 'interface to listen on' },
  { flag: '--port', key: 'port', value: 'PORT', kind: { type: 'int', min: 0, max: 65535 }, help: 'TCP port (0 = any free port)' },
  { flag: '--greeting', key: 'greeting', value: 'TEXT', kind: { type: 'text', allowEmpty: true }, help: 'first line sent to each client' },
  {
    flag: '--reply-timeout',
    key: 'replyTimeoutMs',
    value: 'MS',
    kind: { type: 'int', min: 1, max: MAX_TIMER_MS },
    help: 'total time a client has to reply, from connect',
  },
  {
    flag: '--reply-quiet',
    key: 'replyQuietMs',
    value: 'MS',
    kind: { type: 'int', min: 1, max: MAX_TIMER_MS },
    help: 'quiet after bytes with no newline that makes them the reply',
  },
  {
    flag: '--max-reply-bytes',
    key: 'maxReplyBytes',
    value: 'N',
    kind: { type: 'int', min: 1, max: 16 * 1024 * 1024 },
    help: 'longest reply line accepted, in bytes',
  },
  {
    flag: '--max-connections',
    key: 'maxConnections',
    value: 'N',
    kind: { type: 'int', min: 1, max: 1_000_000 },
    help: 'clients served at once; more are told the server is busy',
  },
  {
    flag: '--close-timeout',
    key: 'closeTimeoutMs',
    value: 'MS',
    kind: { type: 'int', min: 1, max: MAX_TIMER_MS },
    help: 'wait for a client to close after our goodbye before resetting',
  },
  {
    flag: '--shutdown-grace',
    key: 'shutdownGraceMs',
    value: 'MS',
    kind: { type: 'int', min: 0, max: MAX_TIMER_MS },
    help: 'on SIGINT/SIGTERM, time connections get to close',
  },
  {
    flag: '--reclaim-check',
    key: 'reclaimCheckMs',
    value: 'MS',
    kind: { type: 'int', min: 0, max: MAX_TIMER_MS },
    help: 'how often to look whether to give memory back after a burst (0 = never)',
  },
  {
    flag: '--backlog',
    key: 'listenBacklog',
    value: 'N',
    kind: { type: 'int', min: 1, max: 65535 },
    help: 'handshakes the kernel queues before accept (capped by somaxconn)',
  },
  {
    flag: '--log-format',
    key: 'logFormat',
    value: 'human|json',
    kind: { type: 'choice', choices: ['human', 'json'] },
    help: 'console lines, or one JSON object per line',
  },
  {
    flag: '--workers',
    key: 'workers',
    value: 'N|auto',
    kind: { type: 'countOrAuto', max: 64 },
    help: 'server processes sharing the port (auto = one per core)',
  },
  {
    flag: '--inspect',
    key: 'inspect',
    value: '[HOST:]PORT',
    kind: { type: 'hostPort' },
    help: 'serve the live statechart view at http://HOST:PORT/ (host 127.0.0.1)',
  },
  {
    flag: '--metrics',
    key: 'metrics',
    value: '[HOST:]PORT',
    kind: { type: 'hostPort' },
    help: 'serve Prometheus metrics at http://HOST:PORT/metrics (host 127.0.0.1)',
  },
  {
    flag: '--inspect-ws',
    key: 'inspectWs',
    value: 'URL',
    kind: { type: 'url', schemes: ['ws', 'wss'] },
    help: "stream XState inspection events to a WebSocket (Stately's inspector)",
  },
  { flag: '--tls-cert', key: 'tlsCert', value: 'FILE', kind: { type: 'path' }, help: 'PEM certificate: serve TLS on the port (with --tls-key)' },
  { flag: '--tls-key', key: 'tlsKey', value: 'FILE', kind: { type: 'path' }, help: 'PEM private key for --tls-cert' },
  {
    flag: '--tls-handshake-timeout',
    key: 'tlsHandshakeTimeoutMs',
    value: 'MS',
    kind: ms(1),
    help: 'time a TLS client has to finish its handshake',
  },
  {
    flag: '--websocket',
    key: 'websocket',
    value: '[HOST:]PORT',
    kind: { type: 'hostPort' },
    help: 'IRC: IRC over WebSocket and the web client at http://HOST:PORT/ (host 127.0.0.1)',
  },
  {
    flag: '--websocket-origin',
    key: 'websocketOrigins',
    value: 'ORIGINS',
    kind: { type: 'origins' },
    help: "IRC: page origins allowed to open a WebSocket besides the web client's own, comma-separated; * for any",
  },
  { flag: '--server-name', key: 'irc.serverName', value: 'NAME', kind: { type: 'text', allowEmpty: false, word: true }, help: 'IRC: the server name clients see' },
  { flag: '--network', key: 'irc.network', value: 'NAME', kind: { type: 'text', allowEmpty: false, word: true }, help: 'IRC: the network name (ISUPPORT NETWORK)' },
  { flag: '--password', key: 'irc.password', value: 'PASS', kind: { type: 'text', allowEmpty: false }, help: 'IRC: server password required with PASS' },
  { flag: '--motd', key: 'irc.motdFile', value: 'FILE', kind: { type: 'path' }, help: 'IRC: message of the day (default: the greeting)' },
  { flag: '--sendq', key: 'irc.sendqBytes', value: 'BYTES', kind: { type: 'int', min: 512, max: 64 * 1024 * 1024 }, help: 'IRC: unread output a client may leave before it is closed' },
  { flag: '--output-coalesce', key: 'irc.outputCoalesceMs', value: 'MS', kind: { type: 'int', min: 0, max: 1_000 }, help: 'IRC: a busy client gets at most one write per this interval (0 = every turn)' },
  { flag: '--output-slice', key: 'irc.outputSliceMs', value: 'MS', kind: { type: 'int', min: 1, max: 1_000 }, help: 'IRC: one flush of output writes for at most this long before the server reads again' },
  { flag: '--readq', key: 'irc.readqBytes', value: 'BYTES', kind: { type: 'int', min: 8 * 1024, max: 64 * 1024 * 1024 }, help: 'IRC: bytes one line may run to, ended or not, before its client is closed' },
  { flag: '--recvq', key: 'irc.recvqBytes', value: 'BYTES', kind: { type: 'int', min: 512, max: 64 * 1024 * 1024 }, help: 'IRC: unprocessed input a client may queue before it is closed' },
  { flag: '--flood-burst', key: 'irc.floodBurstLines', value: 'LINES', kind: { type: 'int', min: 1, max: 1_000_000 }, help: 'IRC: commands a client may send at once' },
  {
    flag: '--flood-rate',
    key: 'irc.floodRateLinesPerSecond',
    value: 'LINES_PER_SECOND',
    kind: { type: 'rate', min: 0.01, max: 1_000_000 },
    help: 'IRC: commands per second after the burst (more are delayed)',
  },
  { flag: '--registration-timeout', key: 'irc.registrationTimeoutMs', value: 'MS', kind: ms(1), help: 'IRC: time from connect to finished registration' },
  { flag: '--ping-interval', key: 'irc.pingIntervalMs', value: 'MS', kind: ms(1), help: 'IRC: quiet time before the server PINGs a client' },
  { flag: '--ping-timeout', key: 'irc.pingTimeoutMs', value: 'MS', kind: ms(1), help: 'IRC: time to answer a PING before being closed' },
  { flag: '--max-channels', key: 'irc.maxChannelsPerClient', value: 'N', kind: { type: 'int', min: 1, max: 10_000 }, help: 'IRC: channels one client may be in' },
  { flag: '--max-per-ip', key: 'irc.maxConnectionsPerIp', value: 'N', kind: { type: 'int', min: 1, max: 1_000_000 }, help: 'IRC: connections from one IP address at once' },
  { flag: '--nick-len', key: 'irc.nickLength', value: 'N', kind: { type: 'int', min: 1, max: 200 }, help: 'IRC: longest nick (NICKLEN)' },
  { flag: '--channel-len', key: 'irc.channelLength', value: 'N', kind: { type: 'int', min: 2, max: 200 }, help: 'IRC: longest channel name (CHANNELLEN)' },
  { flag: '--topic-len', key: 'irc.topicLength', value: 'N', kind: { type: 'int', min: 1, max: 400 }, help: 'IRC: longest topic (TOPICLEN)' },
  { flag: '--away-len', key: 'irc.awayLength', value: 'N', kind: { type: 'int', min: 1, max: 400 }, help: 'IRC: longest away message (AWAYLEN)' },
  { flag: '--kick-len', key: 'irc.kickLength', value: 'N', kind: { type: 'int', min: 1, max: 400 }, help: 'IRC: longest kick reason (KICKLEN)' },
  { flag: '--redis', key: 'irc.redisUrl', value: 'URL', kind: { type: 'url', schemes: ['redis', 'rediss'] }, help: 'IRC: network state on Redis: every node with this URL is one network' },
  { flag: '--redis-sentinel', key: 'irc.redisSentinels', value: 'HOST:PORT,...', kind: { type: 'hostPorts' }, help: 'IRC: network state on the Redis that these Sentinels name (--redis-name); nodes follow its failovers' },
  { flag: '--redis-name', key: 'irc.redisName', value: 'NAME', kind: { type: 'text', allowEmpty: false }, help: 'IRC: the name the Sentinels monitor the Redis primary under' },
  { flag: '--data-dir', key: 'irc.dataDir', value: 'DIR', kind: { type: 'path' }, help: 'IRC: where accounts, registered channels and bans are kept (SQLite)' },
  {
    flag: '--database',
    key: 'irc.databaseUrl',
    value: 'URL',
    kind: { type: 'url', schemes: ['postgres', 'postgresql'] },
    help: 'IRC: keep them in PostgreSQL instead (every node of a network gives the same URL)',
  },
  { flag: '--nick-grace', key: 'irc.nickEnforceGraceMs', value: 'MS', kind: ms(1), help: "IRC: time to log in before a registered nick's holder is renamed" },
  { flag: '--node-timeout', key: 'irc.nodeTimeoutMs', value: 'MS', kind: ms(500), help: 'IRC on Redis: a node silent this long is dead; its users quit' },
  {
    flag: '--sts-duration',
    key: 'irc.stsDurationSeconds',
    value: 'SECONDS',
    kind: { type: 'int', min: 0, max: 2 ** 31 - 1 },
    help: 'IRC over TLS: advertise an sts policy: clients use TLS only, this long (0 lifts it)',
  },
  { flag: '--sts-port', key: 'irc.stsPort', value: 'PORT', kind: { type: 'int', min: 1, max: 65535 }, help: 'IRC: tell plain-text clients to reconnect over TLS on this port (sts)' },
  { flag: '--history', key: 'irc.history', value: 'on|off', kind: { type: 'choice', choices: ['on', 'off'] }, help: 'IRC: keep what is said in the store (CHATHISTORY, read markers)' },
  { flag: '--multiclient', key: 'irc.multiclient', value: 'on|off', kind: { type: 'choice', choices: ['on', 'off'] }, help: 'IRC: connections logged in to one account share one nick and its channels' },
  { flag: '--history-max-age', key: 'irc.historyMaxAgeDays', value: 'DAYS', kind: { type: 'int', min: 0, max: 36_500 }, help: 'IRC: forget history older than this (0: no age limit)' },
  { flag: '--history-max-per-target', key: 'irc.historyMaxPerTarget', value: 'N', kind: { type: 'int', min: 1, max: 100_000_000 }, help: 'IRC: entries one channel or conversation keeps' },
  { flag: '--max-targets', key: 'irc.maxTargets', value: 'N', kind: { type: 'int', min: 1, max: 100 }, help: 'IRC: targets of one PRIVMSG/NOTICE (MAXTARGETS)' },
];

export interface ClientOptions {
  host: string;
  port: number;
  message: string | null;
  timeoutMs: number;
}

export const defaultClientOptions: Readonly<ClientOptions> = Object.freeze({
  host: 'localhost',
  port: 8028,
  message: null,
  timeoutMs: 10_000,
});

export const clientFlags: FlagSpec<keyof ClientOptions>[] = [
  { flag: '--host', key: 'host', value: 'HOST', kind: { type: 'text', allowEmpty: false }, help: 'server host' },
  { flag: '--port', key: 'port', value: 'PORT', kind: { type: 'int', min: 1, max: 65535 }, help: 'server port' },
  {
    flag: '--message',
    key: 'message',
    value: 'TEXT',
    kind: { type: 'text', allowEmpty: true },
    help: 'reply to send (default: one line read from stdin)',
  },
  {
    flag: '--timeout',
    key: 'timeoutMs',
    value: 'MS',
    kind: { type: 'int', min: 1, max: MAX_TIMER_MS },
    help: 'give up when the server says nothing for this long',
  },
];

export type ParseResult<T> = { kind: 'run'; options: T } | { kind: 'help' };

function parseValue(spec: FlagSpec<string>, raw: string): string | number | string[] | { host: string; port: number } | Array<{ host: string; port: number }> {
  const { kind } = spec;
  if (kind.type === 'origins') {
    const origins = raw.split(',').map((o) => o.trim()).filter((o) => o.length > 0);
    if (origins.length === 0) throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must list at least one origin, or *`);
    return origins.map((o) => {
      if (o === anyOrigin) return o;
      const origin = normaliseOrigin(o);
      if (origin === null) {
        throw new ChatError('INVALID_ARGUMENT', `${spec.flag}: ${JSON.stringify(o)} is not an origin (scheme://host[:port], http or https, no path)`);
      }
      return origin;
    });
  }
  if (kind.type === 'rate') {
    const n = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(n) || n < kind.min || n > kind.max) {
      throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must be a number from ${kind.min} to ${kind.max} (got ${JSON.stringify(raw)})`);
    }
    return n;
  }
  if (kind.type === 'path') {
    if (raw.length === 0) throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must name a file`);
    return raw;
  }
  if (kind.type === 'int') {
    const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < kind.min || n > kind.max) {
      throw new ChatError(
        'INVALID_ARGUMENT',
        `${spec.flag} must be a whole number from ${kind.min} to ${kind.max} (got ${JSON.stringify(raw)})`,
      );
    }
    return n;
  }
  if (kind.type === 'hostPort') {
    const m = /^(?:(.+):)?(\d+)$/.exec(raw.trim());
    const port = m ? Number(m[2]) : Number.NaN;
    if (!m || !Number.isSafeInteger(port) || port < 0 || port > 65535) {
      throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must be [host:]port with a port from 0 to 65535 (got ${JSON.stringify(raw)})`);
    }
    return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
  }
  if (kind.type === 'hostPorts') {
    const parts = raw.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
    if (parts.length === 0) throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must list at least one host:port`);
    return parts.map((part) => {
      const m = /^(.+):(\d+)$/.exec(part);
      const port = m ? Number(m[2]) : Number.NaN;
      if (!m || !Number.isSafeInteger(port) || port < 1 || port > 65535) {
        throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must be host:port[,host:port...] with ports from 1 to 65535 (got ${JSON.stringify(part)})`);
      }
      return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
    });
  }
  if (kind.type === 'countOrAuto') {
    if (raw.trim() === 'auto') return availableParallelism();
    const n = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > kind.max) {
      throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must be auto or a whole number from 1 to ${kind.max} (got ${JSON.stringify(raw)})`);
    }
    return n;
  }
  if (kind.type === 'url') {
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (!url || !kind.schemes.includes(url.protocol.replace(/:$/, ''))) {
      const names = kind.schemes.map((scheme) => `${scheme}://`).join(' or ');
      throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must be a ${names} URL (got ${JSON.stringify(raw)})`);
    }
    return raw;
  }
  if (kind.type === 'choice') {
    if (!kind.choices.includes(raw)) {
      throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must be one of ${kind.choices.join(', ')} (got ${JSON.stringify(raw)})`);
    }
    return raw;
  }
  if (!kind.allowEmpty && raw.length === 0) throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must not be empty`);
  if (/[\r\n]/.test(raw)) throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must be a single line`);
  // A name that goes into IRC lines as one word (a message's source, a 005 token): a space or a
  // control character would split or break every line that carries it.
  if (kind.word && /[\s\p{Cc}]/u.test(raw)) throw new ChatError('INVALID_ARGUMENT', `${spec.flag} must be one word, with no spaces or control characters (got ${JSON.stringify(raw)})`);
  return raw;
}

function parseWith<T extends object>(argv: string[], specs: FlagSpec<string>[], defaults: T): ParseResult<T> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const spec of specs) options[spec.flag.slice(2)] = { type: 'string' };
  // parseArgs takes `--reply-timeout -1` for a missing value followed by an option; join such
  // pairs so that a negative number gets the range message, not an "ambiguous" one.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (specs.some((s) => s.flag === arg) && next !== undefined && /^-\d/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else args.push(arg);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (err) {
    // parseArgs' messages are clear but long; keep their first sentence.
    const message = err instanceof Error ? err.message.split('. ')[0]! : String(err);
    throw new ChatError('INVALID_ARGUMENT', message.replace(/\.$/, ''));
  }
  if (values.help) return { kind: 'help' };
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const spec of specs) {
    const raw = values[spec.flag.slice(2)];
    if (typeof raw !== 'string') continue;
    const value = parseValue(spec, raw);
    // `irc.x` keys go into the nested IRC settings (copied, never the frozen defaults).
    if (spec.key.startsWith('irc.')) out.irc = { ...(out.irc as object), [spec.key.slice(4)]: value };
    else out[spec.key] = value;
  }
  return { kind: 'run', options: out as T };
}

export function parseServerArgs(argv: string[]): ParseResult<ServerConfig> {
  const result = parseWith<ServerConfig>(argv, serverFlags, { ...defaultConfig });
  if (result.kind === 'run') {
    const config = result.options;
    // IRC has its own well-known port; 8028 stays the greeting's. An explicit --port wins.
    const portGiven = argv.some((a) => a === '--port' || a.startsWith('--port='));
    if (config.protocol === 'irc' && !portGiven) config.port = defaultIrcPort;
    if ((config.tlsCert === null) !== (config.tlsKey === null)) {
      throw new ChatError('INVALID_ARGUMENT', '--tls-cert and --tls-key go together: give both or neither');
    }
    if (config.websocketOrigins !== null && config.websocket === null) {
      throw new ChatError('INVALID_ARGUMENT', '--websocket-origin needs --websocket');
    }
  }
  return result;
}

export function parseClientArgs(argv: string[]): ParseResult<ClientOptions> {
  return parseWith<ClientOptions>(argv, clientFlags, { ...defaultClientOptions });
}

function usageOf(command: string, summary: string, specs: FlagSpec<string>[], defaults: object, commands: string[] = []): string {
  // The help column starts after the longest flag, so every row lines up.
  const width = Math.max(30, ...specs.map((spec) => `  ${spec.flag} ${spec.value}`.length + 1));
  const rows = specs.map((spec) => {
    const left = `  ${spec.flag} ${spec.value}`;
    const value = valueAt(defaults, spec.key);
    // A help text that names its own default (--motd: the greeting) is not given a second one.
    const shown =
      spec.help.includes('(default:') ? '' : value === null ? (spec.kind.type === 'text' ? '' : ' (default: off)') : ` (default: ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`;
    return `${left.padEnd(width)} ${spec.help}${shown}`;
  });
  const usage = commands.length > 0 ? [`Usage: ${command} [flags]`, ...commands.map((c) => `       ${command} ${c}`)] : [`Usage: ${command} [flags]`];
  return [...usage, '', summary, '', 'Flags:', ...rows, `${'  -h, --help'.padEnd(width)} show this help`].join('\n');
}

export function serverUsage(): string {
  return usageOf(
    'xstate-tcp-chat',
    'Greets each client, logs its one-line reply, closes (the default), or with --protocol irc runs an IRC\nchat server. SIGINT/SIGTERM shut it down cleanly.',
    serverFlags,
    defaultConfig,
    ['hash-password     reads a password on stdin, prints its hash for the config file\'s opers'],
  );
}

export function clientUsage(): string {
  return usageOf(
    'xstate-tcp-chat-client',
    'Connects, prints the greeting, sends a message, prints what the server says until it closes.',
    clientFlags,
    defaultClientOptions,
  );
}
