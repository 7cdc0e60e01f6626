import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseClientArgs, parseServerArgs, serverFlags, serverUsage } from '../../src/cli/args.js';
import { flagWithoutEffect, ircOnlyFlagSet, ownPortClash } from '../../src/cli/flagConflicts.js';
import { defaultConfig } from '../../src/core/config.js';
import { ChatError } from '../../src/core/errors.js';

function run(argv: string[]) {
  const r = parseServerArgs(argv);
  if (r.kind !== 'run') throw new Error('expected options');
  return r.options;
}

function refusal(argv: string[]): string {
  try {
    parseServerArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).code).toBe('INVALID_ARGUMENT');
    return (err as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('server flags', () => {
  it('defaults to the article: localhost:8028 and its greeting', () => {
    expect(run([])).toEqual(defaultConfig);
    expect(defaultConfig).toMatchObject({ host: 'localhost', port: 8028, greeting: "Hey What's up?" });
  });

  it('reads every documented flag', () => {
    const o = run([
      '--host', '0.0.0.0', '--port', '9000', '--greeting', 'hi', '--reply-timeout', '1500', '--reply-quiet', '50',
      '--max-reply-bytes', '64', '--max-connections', '3', '--close-timeout', '100', '--shutdown-grace', '0',
      '--backlog', '128', '--log-format', 'json', '--inspect', '8029', '--inspect-ws', 'ws://127.0.0.1:9999/x',
      '--workers', '3',
    ]);
    expect(o).toEqual({
      ...defaultConfig,
      host: '0.0.0.0', port: 9000, greeting: 'hi', replyTimeoutMs: 1500, replyQuietMs: 50, maxReplyBytes: 64,
      maxConnections: 3, closeTimeoutMs: 100, shutdownGraceMs: 0, listenBacklog: 128, logFormat: 'json',
      inspect: { host: '127.0.0.1', port: 8029 }, inspectWs: 'ws://127.0.0.1:9999/x', workers: 3,
    });
  });

  it('reads the Sentinels to follow, each with its host, and refuses a list without ports', () => {
    expect(run(['--redis-sentinel', 'a.example:26379, 10.0.0.2:26380,[::1]:5000', '--redis-name', 'chat']).irc).toMatchObject({
      redisSentinels: [{ host: 'a.example', port: 26379 }, { host: '10.0.0.2', port: 26380 }, { host: '::1', port: 5000 }],
      redisName: 'chat',
    });
    expect(refusal(['--redis-sentinel', 'a.example'])).toMatch(/--redis-sentinel must be host:port\[,host:port\.\.\.\]/);
    expect(refusal(['--redis-sentinel', ','])).toMatch(/at least one host:port/);
  });

  it('accepts --flag=value', () => {
    expect(run(['--port=0']).port).toBe(0);
  });

  it('refuses out-of-range and malformed numbers', () => {
    expect(refusal(['--port', '70000'])).toContain('--port must be a whole number from 0 to 65535');
    expect(refusal(['--reply-timeout', '-5'])).toContain('--reply-timeout');
    expect(refusal(['--max-connections', '0'])).toContain('--max-connections');
    expect(refusal(['--port', '80x'])).toContain('--port');
    expect(refusal(['--port', '1e3'])).toContain('--port');
  });

  it('refuses unknown flags, missing values, stray arguments and bad choices', () => {
    expect(refusal(['--nope'])).toMatch(/--nope/);
    expect(refusal(['--port'])).toMatch(/--port/);
    expect(refusal(['8028'])).toMatch(/8028/);
    expect(refusal(['--log-format', 'xml'])).toContain('human, json');
  });

  it('reads --inspect as [host:]port and checks --inspect-ws is a WebSocket URL', () => {
    expect(run(['--inspect', '0.0.0.0:9000']).inspect).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(run(['--inspect', '[::1]:9000']).inspect).toEqual({ host: '::1', port: 9000 });
    expect(refusal(['--inspect', 'host:99999'])).toContain('--inspect must be [host:]port');
    expect(refusal(['--inspect', 'nope'])).toContain('--inspect must be [host:]port');
    expect(refusal(['--inspect-ws', 'http://x/'])).toContain('ws:// or wss://');
  });

  it('reads --workers as a count or auto (one per core)', () => {
    expect(run(['--workers', 'auto']).workers).toBe(availableParallelism());
    expect(refusal(['--workers', '0'])).toContain('--workers must be auto or a whole number from 1 to 64');
  });

  it('reads the IRC flags into the IRC settings and gives IRC its own port', () => {
    const o = run([
      '--protocol', 'irc', '--server-name', 'irc.example', '--network', 'Example', '--password', 'sesame',
      '--motd', '/tmp/motd.txt', '--sendq', '100000', '--recvq', '4096', '--flood-burst', '5', '--flood-rate', '0.5',
      '--registration-timeout', '1000', '--ping-interval', '2000', '--ping-timeout', '3000', '--max-channels', '7',
      '--max-per-ip', '9', '--nick-len', '12', '--channel-len', '20', '--topic-len', '100', '--away-len', '50',
      '--kick-len', '60', '--max-targets', '2', '--tls-cert', 'c.pem', '--tls-key', 'k.pem',
    ]);
    expect(o.protocol).toBe('irc');
    expect(o.port).toBe(6667);
    expect(o.tlsCert).toBe('c.pem');
    expect(o.tlsKey).toBe('k.pem');
    expect(o.irc).toEqual({
      ...defaultConfig.irc,
      serverName: 'irc.example', network: 'Example', password: 'sesame', motdFile: '/tmp/motd.txt', sendqBytes: 100000,
      recvqBytes: 4096, floodBurstLines: 5, floodRateLinesPerSecond: 0.5, registrationTimeoutMs: 1000,
      pingIntervalMs: 2000, pingTimeoutMs: 3000, maxChannelsPerClient: 7, maxConnectionsPerIp: 9, nickLength: 12,
      channelLength: 20, topicLength: 100, awayLength: 50, kickLength: 60, maxTargets: 2,
    });
    // The defaults object itself is never written to.
    expect(defaultConfig.irc.serverName).toBe('irc.localhost');
    expect(run(['--protocol', 'irc', '--port', '7000']).port).toBe(7000);
    expect(run(['--protocol', 'greeting']).port).toBe(8028);
  });

  it('refuses a TLS certificate without its key, and a bad flood rate', () => {
    expect(refusal(['--tls-cert', 'c.pem'])).toContain('--tls-cert and --tls-key go together');
    expect(refusal(['--flood-rate', 'fast'])).toContain('--flood-rate must be a number');
    expect(refusal(['--protocol', 'http'])).toContain('greeting, irc');
    expect(refusal(['--redis', 'http://127.0.0.1:6379'])).toContain('--redis must be a redis:// or rediss:// URL');
    expect(run(['--redis', 'redis://127.0.0.1:6379', '--node-timeout', '2000']).irc).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      nodeTimeoutMs: 2000,
    });
  });

  it('refuses a multi-line greeting (it is one line on the wire)', () => {
    expect(refusal(['--greeting', 'a\nb'])).toContain('single line');
  });

  it('refuses a server or network name that is not one word (it is one word in every IRC line)', () => {
    expect(refusal(['--protocol', 'irc', '--server-name', 'bad name'])).toBe('--server-name must be one word, with no spaces or control characters (got "bad name")');
    expect(refusal(['--protocol', 'irc', '--network', 'My\tNet'])).toContain('--network must be one word');
    expect(run(['--protocol', 'irc', '--server-name', 'irc.example.org', '--network', 'ExampleNet']).irc).toMatchObject({ serverName: 'irc.example.org', network: 'ExampleNet' });
  });

  it('lists every flag with its default in the usage', () => {
    const usage = serverUsage();
    for (const spec of serverFlags) expect(usage).toContain(spec.flag);
    expect(usage).toContain('(default: 8028)');
  });

  it('names an IRC-only flag given to the greeting server, which would ignore it', () => {
    const ircOnly = (argv: string[]): string | null => {
      const r = parseServerArgs(argv);
      if (r.kind !== 'run') throw new Error(`not a run: ${argv.join(' ')}`);
      return ircOnlyFlagSet(r.options);
    };
    expect(ircOnly(['--password', 'secret'])).toBe('--password');
    expect(ircOnly(['--port', '9000', '--server-name', 'x.test'])).toBe('--server-name');
    expect(ircOnly(['--database', 'postgres://db.example/chat'])).toBe('--database');
    expect(ircOnly(['--port', '9000', '--max-connections', '5'])).toBeNull();
    expect(ircOnly(['--protocol', 'irc', '--password', 'secret'])).toBeNull();
  });

  it('refuses a flag set where it has no effect, rather than ignore it', () => {
    const idle = (argv: string[]): string | null => {
      const r = parseServerArgs(['--protocol', 'irc', ...argv]);
      if (r.kind !== 'run') throw new Error(`not a run: ${argv.join(' ')}`);
      return flagWithoutEffect(r.options);
    };
    expect(idle(['--redis', 'redis://r', '--redis-name', 'chat'])).toMatch(/^--redis-name is for --redis-sentinel/);
    expect(idle(['--node-timeout', '9000'])).toMatch(/^--node-timeout is for a network on Redis/);
    expect(idle(['--tls-handshake-timeout', '5000'])).toBe('--tls-handshake-timeout is for a TLS port (--tls-cert)');
    expect(idle(['--history', 'off', '--history-max-age', '7'])).toMatch(/^--history-max-age is for a server that keeps history/);
    expect(idle(['--history', 'off', '--history-max-per-target', '10'])).toMatch(/^--history-max-per-target is for a server that keeps history/);
    expect(idle(['--database', 'postgres://db/chat', '--data-dir', '/srv/chat'])).toMatch(/^--data-dir is where the SQLite store lives/);
    // Beside what they need, each is taken.
    expect(idle(['--redis-sentinel', 'h:26379', '--redis-name', 'chat', '--node-timeout', '9000'])).toBeNull();
    expect(idle(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-handshake-timeout', '5000'])).toBeNull();
    expect(idle(['--history-max-age', '7', '--data-dir', '/srv/chat'])).toBeNull();
  });

  it('names two of its own listeners given one port, before anything starts', () => {
    const clash = (argv: string[]): string | null => {
      const r = parseServerArgs(argv);
      if (r.kind !== 'run') throw new Error(`not a run: ${argv.join(' ')}`);
      return ownPortClash(r.options);
    };
    expect(clash(['--port', '9000', '--metrics', '9000'])).toBe('--metrics 9000 is the port --port listens on: give each its own');
    expect(clash(['--port', '9000', '--inspect', '0.0.0.0:9000'])).toBe('--inspect 9000 is the port --port listens on: give each its own');
    expect(clash(['--port', '9000', '--metrics', '9100', '--inspect', '9100'])).toBe('--inspect 9100 is the port --metrics listens on: give each its own');
    // Different addresses may share a port number; port 0 is a new free port each time.
    expect(clash(['--host', '10.0.0.5', '--port', '9000', '--metrics', '127.0.0.1:9000'])).toBeNull();
    expect(clash(['--port', '0', '--metrics', '0'])).toBeNull();
    expect(clash(['--port', '9000', '--metrics', '9100'])).toBeNull();
  });

  it('names the hash-password command in the usage (the README sends operators to it)', () => {
    expect(serverUsage()).toMatch(/^ +xstate-tcp-chat hash-password +reads a password on stdin/m);
  });

  it('answers --help', () => {
    expect(parseServerArgs(['--help']).kind).toBe('help');
  });
});

describe('client flags', () => {
  it('defaults to localhost:8028 with the message read from stdin', () => {
    const r = parseClientArgs([]);
    expect(r).toEqual({ kind: 'run', options: { host: 'localhost', port: 8028, message: null, timeoutMs: 10_000 } });
  });

  it('takes an empty --message as a message', () => {
    const r = parseClientArgs(['--message', '']);
    expect(r.kind === 'run' && r.options.message).toBe('');
  });
});
