// What every handler shares: the handler type, an Outcome builder, numerics addressed to the
// client, sources, membership prefixes, and packing long lists into lines that fit in 512
// bytes. No command logic lives here.

import type { IrcConfig } from '../../core/config.js';
import type { HistoryEntry } from '../../history/history.js';
import type { IrcMessage } from '../wire/message.js';
import { fold } from '../wire/casemap.js';
import { splitText } from '../wire/split.js';
import { ERR_TOOMANYTARGETS } from '../wire/numerics.js';
import type { Membership, ModeChange } from '../state/networkState.js';
import type { CapVariant, Client, HostChange, Kill, MaybePromise, OperatorLogEntry, Outcome, Send, SessionEffect, Target, CommandContext } from './types.js';

export type Handler = (ctx: CommandContext, client: Client, msg: IrcMessage) => MaybePromise<Outcome>;

/** Bytes a line may hold before its CRLF (RFC 1459's 512 with the CRLF), tags not counted. */
export const MAX_LINE_BYTES = 510;

/** Capabilities this server offers (CAP LS), in the order it lists them. */
export const supportedCaps: readonly string[] = [
  'account-notify',
  'account-tag',
  'away-notify',
  'batch',
  'cap-notify',
  'chghost',
  'draft/account-registration',
  'draft/channel-rename',
  'draft/chathistory',
  'draft/event-playback',
  'draft/message-redaction',
  'draft/multiline',
  'draft/read-marker',
  'echo-message',
  'extended-join',
  'extended-monitor',
  'invite-notify',
  'labeled-response',
  'message-tags',
  'multi-prefix',
  'sasl',
  'server-time',
  'setname',
  'userhost-in-names',
];

/** The capabilities that exist only while the network keeps history (`--history on`). */
export const HISTORY_CAPS: readonly string[] = ['draft/chathistory', 'draft/event-playback', 'draft/message-redaction', 'draft/read-marker'];

const capsWithoutHistory = supportedCaps.filter((c) => !HISTORY_CAPS.includes(c));

/** The capabilities offered with this config: supportedCaps, less the history's when it is off. */
export function offeredCaps(config: IrcConfig): readonly string[] {
  return config.history === 'on' ? supportedCaps : capsWithoutHistory;
}

/**
 * What CAP LS 302 says after a capability's name (`sasl=PLAIN,...`). Clients that asked for
 * plain LS get the names only.
 */
export const capValues: Readonly<Record<string, string>> = {
  sasl: 'PLAIN,EXTERNAL,SCRAM-SHA-256',
  'draft/account-registration': 'before-connect',
};

/** USERLEN: longest username, its `~` included (there is no ident lookup: every one gets it). */
export const USER_LENGTH = 10;

/** KEYLEN: longest channel key; a longer +k key is cut to this. */
export const KEY_LENGTH = 23;

/**
 * MODES: mode changes that take a parameter (b e I q k l o v) one MODE command may make; the ones
 * past it are ignored, their parameters consumed. Bounds the work and the broadcast one
 * command causes.
 */
export const MAX_PARAM_MODES = 4;

/**
 * User modes (004): +B a bot (IRCv3 bot-mode: WHOIS 335, WHO flag B, a `bot` tag on what it
 * says), +i hides a user from WHO and NAMES, +o an operator, +w receives WALLOPS.
 */
export const USER_MODES = 'Biow';

/**
 * Channel modes (004), and the ones that take a parameter. ISUPPORT CHANMODES says the same:
 * the lists b e I q, k, l, the flags M R i m n s t, and the prefixes o v.
 */
export const CHANNEL_MODES = 'IMRbeiklmnoqstv';
export const CHANNEL_MODES_WITH_PARAM = 'Ibekloqv';

/**
 * Flag modes a channel gets when its first member creates it: +n (no messages from outside)
 * and +t (only operators set the topic), as most networks do; an operator can unset them.
 */
export const NEW_CHANNEL_FLAGS = 'nt';

const SELF: Target = { kind: 'self' };

/** The `<client>` parameter of a numeric: the nick, or `*` before there is one. */
export function clientName(client: Client): string {
  return client.nick ?? '*';
}

/** `:server NNN <client> ...params`. */
export function numeric(ctx: CommandContext, client: Client, code: string, ...params: string[]): IrcMessage {
  return { tags: {}, source: ctx.config.serverName, command: code, params: [clientName(client), ...params] };
}

/** The client's `nick!user@host`, the source of what it says and does. */
export function sourceOf(client: Client): string {
  return `${client.nick ?? '*'}!${client.user ?? '*'}@${client.host}`;
}

/**
 * A host as a middle parameter (311, 314, 352): an IPv6 address such as `::1` would read as
 * the trailing parameter, so it gets a leading `0` (`0::1`, the same address), as the modern
 * spec says.
 */
export function hostParam(host: string): string {
  return host.startsWith(':') ? `0${host}` : host;
}

/** A message from a user (or the server) with no tags. */
export function from(source: string, command: string, ...params: string[]): IrcMessage {
  return { tags: {}, source, command, params };
}

/** A NOTICE from the server to the client (by its nick, `*` before it has one). */
export function serverNotice(ctx: CommandContext, client: Client, text: string): IrcMessage {
  return from(ctx.config.serverName, 'NOTICE', client.nick ?? '*', text);
}

/**
 * An IRCv3 standard reply (FAIL, WARN or NOTE) from the server: `FAIL SETNAME INVALID_REALNAME
 * :Realname is not valid`. `context` are the parameters between the code and the description.
 */
export function standardReply(
  ctx: CommandContext,
  type: 'FAIL' | 'WARN' | 'NOTE',
  command: string,
  code: string,
  ...contextAndDescription: string[]
): IrcMessage {
  return from(ctx.config.serverName, type, command, code, ...contextAndDescription);
}

/** Who besides a channel's members a channel send skips (`except`) or reaches (`plus`): see Target. */
interface ChannelsOptions {
  except?: number;
  plus?: number[];
}

function channelsTarget(channels: string[], options: ChannelsOptions): Target {
  const to: Target = { kind: 'channels', channels };
  if (options.except !== undefined) to.except = options.except;
  if (options.plus !== undefined && options.plus.length > 0) to.plus = options.plus;
  return to;
}

/** Builds an Outcome in order: what the handler appends first is applied first. */
export class Reply {
  readonly sends: Send[] = [];
  readonly effects: SessionEffect[] = [];
  private kills: Kill[] | null = null;
  private logouts: string[] | null = null;
  private hostChanges: HostChange[] | null = null;
  private history: HistoryEntry[] | null = null;
  private logged: OperatorLogEntry[] | null = null;

  constructor(
    private readonly ctx: CommandContext,
    private readonly client: Client,
  ) {}

  /** A numeric to the client. */
  numeric(code: string, ...params: string[]): this {
    this.sends.push({ to: SELF, message: numeric(this.ctx, this.client, code, ...params) });
    return this;
  }

  toSelf(message: IrcMessage): this {
    this.sends.push({ to: SELF, message });
    return this;
  }

  toClient(clientId: number, message: IrcMessage): this {
    this.sends.push({ to: { kind: 'client', clientId }, message });
    return this;
  }

  /** To every member of the (folded) channels when applied, each once; see Target. */
  toChannels(channels: string[], message: IrcMessage, options: ChannelsOptions = {}): this {
    this.sends.push({ to: channelsTarget(channels, options), message });
    return this;
  }

  /** A send with its per-recipient forms (onlyCap, capVariant): see Send. */
  send(send: Send): this {
    this.sends.push(send);
    return this;
  }

  effect(effect: SessionEffect): this {
    this.effects.push(effect);
    return this;
  }

  /** Appends another handler's outcome (a service's answer inside a PRIVMSG). */
  merge(outcome: Outcome): this {
    this.sends.push(...outcome.sends);
    this.effects.push(...outcome.effects);
    for (const k of outcome.kills ?? []) this.kill(k.clientId, k.reason);
    for (const a of outcome.logouts ?? []) this.logoutEverywhere(a);
    for (const h of outcome.hostChanges ?? []) this.hostChange(h.clientId, h.user, h.host);
    for (const e of outcome.history ?? []) this.keep(e);
    return this;
  }

  /** A client (wherever it is connected) shows `user@host` from now on, once the sends are out. */
  hostChange(clientId: number, user: string, host: string): this {
    (this.hostChanges ??= []).push({ clientId, user, host });
    return this;
  }

  /**
   * An event the members of `channels` see (JOIN, PART, KICK, TOPIC, MODE, NICK, QUIT) and
   * their histories keep for draft/event-playback. With history on, what is delivered and what
   * is kept share one msgid and time, so a client can tell a replay from what it saw. A NICK or
   * QUIT is kept once per channel (msgid, msgid-1, msgid-2...: a msgid is unique in the store)
   * but reaches each member once, so no one msgid names what each saw: it goes without one.
   * `variant`: extended-join's JOIN, which is also the form kept.
   */
  event(channels: string[], message: IrcMessage, options: ChannelsOptions & { variant?: CapVariant } = {}): this {
    const to = channelsTarget(channels, options);
    const variant = options.variant;
    if (this.ctx.history === null || channels.length === 0) {
      this.sends.push(variant ? { to, message, capVariant: variant } : { to, message });
      return this;
    }
    const msgid = this.ctx.newMsgid();
    const at = this.ctx.now();
    const tagged = (m: IrcMessage): IrcMessage => (channels.length === 1 ? { ...m, tags: { ...m.tags, msgid } } : m);
    const send: Send = { to, message: tagged(message), time: new Date(at).toISOString() };
    if (variant) send.capVariant = { cap: variant.cap, message: variant.message && tagged(variant.message) };
    this.sends.push(send);
    const stored = variant?.message ?? message;
    channels.forEach((channel, i) =>
      this.keep({
        target: fold(channel),
        msgid: i === 0 ? msgid : `${msgid}-${i}`,
        at,
        command: stored.command,
        source: stored.source ?? '',
        account: this.client.account,
        params: stored.params,
        tags: {},
        between: null,
      }),
    );
    return this;
  }

  /** Keeps an entry in the history once the sends are out (null: not kept). */
  keep(entry: HistoryEntry | null): this {
    if (entry !== null) (this.history ??= []).push(entry);
    return this;
  }

  /** Logs out every connection logged in to `account`, on every node (the account is gone). */
  logoutEverywhere(account: string): this {
    (this.logouts ??= []).push(account);
    return this;
  }

  /** Removes another client from the network (wherever it is connected) once the sends are out. */
  kill(clientId: number, reason: string): this {
    (this.kills ??= []).push({ clientId, reason });
    return this;
  }

  /** A line for the server's log, written when the outcome is applied. */
  log(event: OperatorLogEntry['event'], fields: OperatorLogEntry['fields']): this {
    (this.logged ??= []).push({ event, fields });
    return this;
  }

  outcome(): Outcome {
    const outcome: Outcome = { sends: this.sends, effects: this.effects };
    if (this.logged) outcome.log = this.logged;
    if (this.kills) outcome.kills = this.kills;
    if (this.logouts) outcome.logouts = this.logouts;
    if (this.hostChanges) outcome.hostChanges = this.hostChanges;
    if (this.history) outcome.history = this.history;
    return outcome;
  }
}

/** An outcome with nothing to send and nothing for the machine. */
export function nothing(): Outcome {
  return { sends: [], effects: [] };
}

/** Membership prefixes: all of them (`@+`) with multi-prefix, else the highest only. */
export function prefixOf(m: Membership, multiPrefix: boolean): string {
  if (multiPrefix) return (m.op ? '@' : '') + (m.voice ? '+' : '');
  return m.op ? '@' : m.voice ? '+' : '';
}

/**
 * Cuts client text to `max` characters (code points, so a cut never splits a surrogate pair).
 * Used for the limits advertised in 005 (TOPICLEN, AWAYLEN, KICKLEN).
 */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return Array.from(text).slice(0, max).join('');
}

/** A comma-separated list, empty items dropped. */
export function commaList(param: string | undefined): string[] {
  return (param ?? '').split(',').filter((s) => s.length > 0);
}

export function isChannelName(name: string): boolean {
  return name.startsWith('#');
}

/** ms since the epoch to whole seconds, as IRC timestamps are. */
export function unixSeconds(ms: number): string {
  return String(Math.floor(ms / 1000));
}

/**
 * Splits `words` into space-joined groups, each of which fits as the trailing param of
 * `:server code <client> ...middle :<group>` within MAX_LINE_BYTES. A word too long for any
 * line gets a line of its own (the serialiser still writes it; no word is dropped).
 */
export function packTrailing(ctx: CommandContext, client: Client, code: string, middle: string[], words: string[]): string[] {
  return packTrailingFor(ctx, clientName(client), code, middle, words);
}

/** packTrailing for a numeric whose `<client>` is `name` (one sent to another client). */
export function packTrailingFor(ctx: CommandContext, name: string, code: string, middle: string[], words: string[]): string[] {
  const head =
    Buffer.byteLength(`:${ctx.config.serverName} ${code} ${name} `, 'utf8') +
    middle.reduce((n, p) => n + Buffer.byteLength(p, 'utf8') + 1, 0) +
    1; // the ':' of the trailing param
  return splitText(words.join(' '), MAX_LINE_BYTES - head, 'keep');
}

/**
 * Packs `items` into comma-separated lists, each fitting as the trailing param of
 * `:server code <client> :<list>` within MAX_LINE_BYTES (MONITOR's 730-732). `client` is the
 * `<client>` parameter as it will be written (a nick, or `*`).
 */
export function packCommaList(ctx: CommandContext, client: string, code: string, items: string[]): string[] {
  const room = MAX_LINE_BYTES - Buffer.byteLength(`:${ctx.config.serverName} ${code} ${client} :`, 'utf8');
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const joined = line === '' ? item : `${line},${item}`;
    if (line !== '' && Buffer.byteLength(joined, 'utf8') > room) {
      lines.push(line);
      line = item;
    } else line = joined;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * The targets a command handles (the first `max`), with 407 ERR_TOOMANYTARGETS naming the
 * first one left out when there are more.
 */
export function limitTargets(r: Reply | null, targets: string[], max: number): string[] {
  if (targets.length <= max) return targets;
  const first = targets[max];
  if (r && first !== undefined) {
    r.numeric(ERR_TOOMANYTARGETS, first, `Too many targets: only the first ${max} were used`);
  }
  return targets.slice(0, max);
}

/** A mode string and its parameters for what took effect: `+o-v+k`, [nick, nick, key]. */
export function modeString(changes: ModeChange[]): { modes: string; params: string[] } {
  let modes = '';
  let sign = '';
  const params: string[] = [];
  for (const c of changes) {
    const s = c.adding ? '+' : '-';
    if (s !== sign) modes += s;
    sign = s;
    modes += c.mode;
    if (c.param !== undefined) params.push(c.param);
  }
  return { modes, params };
}
