// Flags that parse one by one but not together (`--sts-port` with a certificate, `--password`
// for the greeting server, two of the server's own listeners on one port): checked once, on
// the whole configuration, before anything starts. Each would otherwise be ignored or fail
// later with a less clear message. Pure: the CLI prints what flagConflict says and exits 2.

import { defaultConfig, usesRedis, type ServerConfig } from '../core/config.js';
import { configValue, serverFlags, type ConfigKey } from './args.js';

/**
 * With a protocol other than IRC: the first IRC-only flag (or config file key) set to anything
 * but its default, or null. The greeting server would ignore it, and a `--password` silently
 * ignored reads as a server with a password.
 */
export function ircOnlyFlagSet(config: ServerConfig): string | null {
  if (config.protocol === 'irc') return null;
  const spec = serverFlags.find((f) => f.key.startsWith('irc.') && isSet(config, f.key));
  return spec?.flag ?? null;
}

/** Whether the flag (or config file key) of `key` was given something other than its default. */
function isSet(config: ServerConfig, key: ConfigKey): boolean {
  return JSON.stringify(configValue(config, key)) !== JSON.stringify(configValue(defaultConfig, key));
}

/**
 * A flag set where it has no effect, as the line to print, or null: each means something only
 * beside another flag, and without it would be ignored, silently, which reads as if it worked.
 */
export function flagWithoutEffect(config: ServerConfig): string | null {
  const irc = config.irc;
  const rules: Array<[key: ConfigKey, idle: boolean, why: string]> = [
    ['irc.redisName', irc.redisSentinels === null, '--redis-name is for --redis-sentinel (the name the Sentinels know the Redis primary by)'],
    ['irc.nodeTimeoutMs', !usesRedis(irc), '--node-timeout is for a network on Redis (--redis or --redis-sentinel)'],
    ['tlsHandshakeTimeoutMs', config.tlsCert === null, '--tls-handshake-timeout is for a TLS port (--tls-cert)'],
    ['irc.historyMaxAgeDays', irc.history === 'off', '--history-max-age is for a server that keeps history (not --history off)'],
    ['irc.historyMaxPerTarget', irc.history === 'off', '--history-max-per-target is for a server that keeps history (not --history off)'],
    ['irc.dataDir', irc.databaseUrl !== null, '--data-dir is where the SQLite store lives; with --database the store is PostgreSQL: give one of them'],
  ];
  for (const [key, idle, why] of rules) if (idle && isSet(config, key)) return why;
  return null;
}

/** Whether two listen addresses would claim the same socket (a wildcard covers every address). */
function sameSocket(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const wildcard = (h: string): boolean => h === '0.0.0.0' || h === '::' || h === '';
  const loopback = (h: string): boolean => h === 'localhost' || h === '127.0.0.1' || h === '::1';
  return a.host === b.host || wildcard(a.host) || wildcard(b.host) || (loopback(a.host) && loopback(b.host));
}

/**
 * Two of the server's own listeners on one port, or null: said before anything starts, since
 * the second to bind would only report "port N is already in use", as if someone else had it.
 */
export function ownPortClash(config: ServerConfig): string | null {
  const listeners: Array<{ flag: string; where: { host: string; port: number } | null }> = [
    { flag: '--port', where: { host: config.host, port: config.port } },
    { flag: '--websocket', where: config.websocket },
    { flag: '--metrics', where: config.metrics },
    { flag: '--inspect', where: config.inspect },
  ];
  for (let i = 0; i < listeners.length; i++) {
    for (let j = i + 1; j < listeners.length; j++) {
      const [a, b] = [listeners[i]!, listeners[j]!];
      if (a.where && b.where && sameSocket(a.where, b.where)) return `${b.flag} ${b.where.port} is the port ${a.flag} listens on: give each its own`;
    }
  }
  return null;
}

/**
 * Flags that parse one by one but not together, as the one line the CLI prints (exit 2), or
 * null. Every one of them would otherwise be ignored or fail later with a less clear message.
 */
export function flagConflict(config: ServerConfig): string | null {
  const irc = config.protocol === 'irc';
  // Each worker would be a separate IRC network with its own nicks and channels.
  if (irc && config.workers > 1 && !usesRedis(config.irc)) {
    return '--protocol irc with --workers above 1 needs --redis URL: the workers share the nicks and channels through Redis';
  }
  if (config.irc.redisUrl !== null && config.irc.redisSentinels !== null) return 'give --redis URL or --redis-sentinel HOST:PORT,..., not both';
  if (!irc && usesRedis(config.irc)) return '--redis is for --protocol irc (the greeting server keeps no shared state)';
  if (!irc && config.websocket !== null) return '--websocket is for --protocol irc (it carries IRC to browsers)';
  // Each STS flag speaks of one kind of port; on the other it would do nothing, silently.
  if (config.irc.stsDurationSeconds !== null && config.tlsCert === null) {
    return '--sts-duration is for a TLS port (--tls-cert): on a plain-text one, --sts-port says where TLS is';
  }
  if (config.irc.stsPort !== null && config.tlsCert !== null) {
    return '--sts-port is for a plain-text port: on a TLS port (--tls-cert), --sts-duration is the policy';
  }
  const clash = ownPortClash(config);
  if (clash !== null) return clash;
  const ircOnly = ircOnlyFlagSet(config);
  if (ircOnly !== null) return `${ircOnly} is for --protocol irc (the greeting server would ignore it)`;
  return flagWithoutEffect(config);
}
