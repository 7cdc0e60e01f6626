// Queries about users and the server: WHO, WHOIS, WHOWAS, ISON, USERHOST, VERSION, TIME,
// LUSERS, MOTD, and AWAY (which sets what WHOIS and PRIVMSG report). Also the pieces of the
// welcome that are queries too: the ISUPPORT (005) lines, LUSERS and the MOTD.
//
// Visibility: a +i user is left out of WHO answers unless the asker is that user or shares a
// channel with it; a +s channel's members are listed by WHO only to its members, and WHOIS
// hides +s channels the asker is not in.

import type { IrcConfig } from '../../core/config.js';
import { caseMapping, fold, matchesMask, sameName } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import {
  ERR_HELPNOTFOUND,
  ERR_NOMOTD,
  ERR_NONICKNAMEGIVEN,
  ERR_NOSUCHNICK,
  ERR_NOSUCHSERVER,
  ERR_WASNOSUCHNICK,
  RPL_AWAY,
  RPL_ENDOFMOTD,
  RPL_ENDOFWHO,
  RPL_ENDOFWHOIS,
  RPL_ENDOFWHOWAS,
  RPL_GLOBALUSERS,
  RPL_ISON,
  RPL_ISUPPORT,
  RPL_LOCALUSERS,
  RPL_LUSERCHANNELS,
  RPL_LUSERCLIENT,
  RPL_LUSERME,
  RPL_LUSEROP,
  RPL_LUSERUNKNOWN,
  RPL_MOTD,
  RPL_MOTDSTART,
  RPL_NOWAWAY,
  RPL_TIME,
  RPL_UNAWAY,
  RPL_USERHOST,
  RPL_VERSION,
  RPL_HELPSTART,
  RPL_HELPTXT,
  RPL_ENDOFHELP,
  RPL_INFO,
  RPL_ENDOFINFO,
  RPL_WHOISACCOUNT,
  RPL_WHOISBOT,
  RPL_WHOISOPERATOR,
  RPL_WHOISCHANNELS,
  RPL_WHOISIDLE,
  RPL_WHOISSECURE,
  RPL_WHOISSERVER,
  RPL_WHOISUSER,
  RPL_WHOREPLY,
  RPL_WHOSPCRPL,
  RPL_WHOWASUSER,
} from '../wire/numerics.js';
import { helpText } from './helpText.js';
import type { UserRecord } from '../state/networkState.js';
import type { Client, Outcome, CommandContext } from './types.js';
import {
  KEY_LENGTH,
  MAX_LINE_BYTES,
  MAX_PARAM_MODES,
  USER_LENGTH,
  Reply,
  clientName,
  commaList,
  cut,
  hostParam,
  isChannelName,
  limitTargets,
  packTrailing,
  prefixOf,
  unixSeconds,
} from './common.js';
import { setAway } from './profile.js';

/** USERHOST answers at most this many nicks (RFC 1459); the rest are ignored. */
const USERHOST_MAX_NICKS = 5;

/** The most RPL_ISUPPORT tokens one 005 line may carry (15 params less `<client>` and text). */
const ISUPPORT_TOKENS_PER_LINE = 13;

// ---- ISUPPORT ----

/** ISUPPORT value escapes: `\x20` for space, `\x5C` for `\`, `\x3D` for `=`. */
function escapeIsupportValue(value: string): string {
  return value.replace(/[\\ =\x00-\x1f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * The RPL_ISUPPORT tokens, each true to what the handlers do: the limits are the config's and
 * the constants in handlers/common.ts, the modes the ones modes.ts knows.
 */
export function isupportTokens(config: IrcConfig): string[] {
  const n = config.maxTargets;
  const m = config.maxBansPerChannel;
  const history = config.history === 'on';
  return [
    `AWAYLEN=${config.awayLength}`,
    'BOT=B',
    `CASEMAPPING=${caseMapping}`,
    `CHANLIMIT=#:${config.maxChannelsPerClient}`,
    'CHANMODES=beIq,k,l,MRimnst',
    `CHANNELLEN=${config.channelLength}`,
    'CHANTYPES=#',
    ...(history ? [`CHATHISTORY=${config.chathistoryMaxMessages}`] : []),
    // LIST takes channel names or masks with * and ?.
    'ELIST=CMNTU',
    'EXCEPTS=e',
    'INVEX=I',
    `KEYLEN=${KEY_LENGTH}`,
    `KICKLEN=${config.kickLength}`,
    // Each list has a limit of its own (a combined `beIq:n` would promise less).
    `MAXLIST=b:${m},e:${m},I:${m},q:${m}`,
    `MAXTARGETS=${n}`,
    `MODES=${MAX_PARAM_MODES}`,
    `MONITOR=${config.maxMonitorTargets}`,
    // A reply batch's messages are counted by the store, which prefers msgids (exact) to times.
    ...(history ? ['MSGREFTYPES=msgid,timestamp'] : []),
    `NAMELEN=${config.realnameLength}`,
    `NETWORK=${escapeIsupportValue(config.network)}`,
    `NICKLEN=${config.nickLength}`,
    'PREFIX=(ov)@+',
    'STATUSMSG=@+',
    // JOIN, PART, NAMES and LIST take any number of names (the line length bounds them).
    `TARGMAX=JOIN:,KICK:${n},LIST:,NAMES:,NOTICE:${n},PART:,PRIVMSG:${n},WHOIS:${n},WHOWAS:${n}`,
    `TOPICLEN=${config.topicLength}`,
    `USERLEN=${USER_LENGTH}`,
    // Lines are decoded with invalid UTF-8 replaced by U+FFFD (the framer): nothing relayed is
    // anything but UTF-8, as the token promises.
    'UTF8ONLY',
    'WHOX',
  ];
}

/** The 005 lines: at most 13 tokens each, each line within 512 bytes. */
export function isupportReplies(ctx: CommandContext, client: Client, r: Reply): void {
  const text = 'are supported by this server';
  const head = Buffer.byteLength(`:${ctx.config.serverName} ${RPL_ISUPPORT} ${clientName(client)} :${text}`, 'utf8');
  let line: string[] = [];
  let bytes = head;
  for (const token of isupportTokens(ctx.config)) {
    const b = Buffer.byteLength(token, 'utf8') + 1;
    if (line.length > 0 && (line.length === ISUPPORT_TOKENS_PER_LINE || bytes + b > MAX_LINE_BYTES)) {
      r.numeric(RPL_ISUPPORT, ...line, text);
      line = [];
      bytes = head;
    }
    line.push(token);
    bytes += b;
  }
  if (line.length > 0) r.numeric(RPL_ISUPPORT, ...line, text);
}

// ---- LUSERS and MOTD ----

/**
 * 251, 252-254 (only when their count is positive: the spec calls them positive integers),
 * 255, 265, 266. 251 counts the servers of the network; 255 the other servers linked to this
 * one (none for the in-memory state).
 */
export async function lusersReplies(ctx: CommandContext, r: Reply): Promise<void> {
  const c = await ctx.state.counts();
  r.numeric(RPL_LUSERCLIENT, `There are ${c.users - c.invisible} users and ${c.invisible} invisible on ${c.servers} servers`);
  if (c.operators > 0) r.numeric(RPL_LUSEROP, String(c.operators), 'operator(s) online');
  if (c.unknown > 0) r.numeric(RPL_LUSERUNKNOWN, String(c.unknown), 'unknown connection(s)');
  if (c.channels > 0) r.numeric(RPL_LUSERCHANNELS, String(c.channels), 'channels formed');
  r.numeric(RPL_LUSERME, `I have ${c.localUsers} clients and ${c.servers - 1} servers`);
  r.numeric(RPL_LOCALUSERS, String(c.localUsers), String(c.maxLocalUsers), `Current local users ${c.localUsers}, max ${c.maxLocalUsers}`);
  r.numeric(RPL_GLOBALUSERS, String(c.globalUsers), String(c.maxGlobalUsers), `Current global users ${c.globalUsers}, max ${c.maxGlobalUsers}`);
}

/** The MOTD: config.motd, or when that is null one line, the greeting. 422 when it is empty. */
export function motdReplies(ctx: CommandContext, r: Reply): void {
  const lines = ctx.config.motd ?? [ctx.greeting];
  if (lines.length === 0) {
    r.numeric(ERR_NOMOTD, 'MOTD File is missing');
    return;
  }
  r.numeric(RPL_MOTDSTART, `- ${ctx.config.serverName} Message of the day - `);
  for (const line of lines) r.numeric(RPL_MOTD, `- ${line}`);
  r.numeric(RPL_ENDOFMOTD, 'End of /MOTD command.');
}

// ---- Helpers ----

/** Server info text in 312 (WHOIS/WHOWAS). */
function serverInfo(ctx: CommandContext): string {
  return `${ctx.config.network} IRC server`;
}

/**
 * A command naming a server in `param` is answered only for this one: 402 otherwise. Returns
 * true when the command may go on.
 */
function isThisServer(ctx: CommandContext, r: Reply, param: string | undefined): boolean {
  if (param === undefined || param === '' || matchesMask(param, ctx.config.serverName)) return true;
  r.numeric(ERR_NOSUCHSERVER, param, 'No such server');
  return false;
}

/** Space- or param-separated words (ISON and USERHOST accept both). */
function words(params: string[]): string[] {
  return params.flatMap((p) => p.split(' ')).filter((w) => w.length > 0);
}

/** Folded names of the channels the client is in. */
async function channelsOfSelf(ctx: CommandContext, client: Client): Promise<Set<string>> {
  if (client.nick === null) return new Set();
  return new Set((await ctx.state.channelsOf(client.nick)).map((c) => fold(c.name)));
}

function isInvisible(u: UserRecord): boolean {
  return u.modes.includes('i');
}

function isSelf(client: Client, u: UserRecord): boolean {
  return client.nick !== null && sameName(client.nick, u.nick);
}

// ---- Handlers ----

/** WHOX's field letters, in the order the reply gives them (ircv3 whox). */
const WHOX_FIELDS = 'tcuihsnfdlaor';

/**
 * What a WHOX request (`%<fields>[,<token>]`) asks for: the known field letters in reply order,
 * each once, and the token (up to 3 digits; `0` when none or not a number).
 */
function whoxRequest(spec: string): { fields: string[]; token: string } {
  const comma = spec.indexOf(',');
  const letters = comma === -1 ? spec : spec.slice(0, comma);
  const token = comma === -1 ? '' : spec.slice(comma + 1);
  return { fields: [...WHOX_FIELDS].filter((f) => letters.includes(f)), token: /^\d{1,3}$/.test(token) ? token : '0' };
}

/**
 * WHO <#channel | mask> [o]: 352 per visible user, then 315. `o` asks for operators (+o) only,
 * of the channel or of the users the mask matches. `0` means `*`. A +i user is visible to
 * those who share a channel with it, and to a WHO naming its nick exactly. WHOX
 * (`WHO <mask> [o]%<fields>[,<token>]`): a 354 per user with the fields asked for, in the
 * order t c u i h s n f d l a o r (the IP is the host: there are no lookups; the op level n/a).
 */
export async function who(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const param = msg.params[0] ?? '*';
  const mask = param === '0' ? '*' : param;
  const options = msg.params[1] ?? '';
  const percent = options.indexOf('%');
  const operatorsOnly = (percent === -1 ? options : options.slice(0, percent)).includes('o');
  const whox = percent === -1 ? null : whoxRequest(options.slice(percent + 1));
  const multi = client.caps.has('multi-prefix');
  const now = ctx.now();
  const whoReply = (channel: string, u: UserRecord, prefix: string): void => {
    const flags = (u.away !== null ? 'G' : 'H') + (u.modes.includes('o') ? '*' : '') + (u.modes.includes('B') ? 'B' : '') + prefix;
    if (whox === null) {
      r.numeric(RPL_WHOREPLY, channel, u.user, hostParam(u.host), u.server, u.nick, flags, `0 ${u.realname}`);
      return;
    }
    const field: Record<string, () => string> = {
      t: () => whox.token,
      c: () => channel,
      u: () => u.user,
      i: () => hostParam(u.host),
      h: () => hostParam(u.host),
      s: () => u.server,
      n: () => u.nick,
      f: () => flags,
      d: () => '0',
      l: () => String(Math.max(0, Math.floor((now - u.lastActiveAt) / 1000))),
      a: () => u.account ?? '0',
      o: () => 'n/a',
      r: () => u.realname,
    };
    r.numeric(RPL_WHOSPCRPL, ...whox.fields.map((f) => field[f]!()));
  };
  if (isChannelName(mask)) {
    const channel = await ctx.state.channel(mask);
    if (channel) {
      const members = await ctx.state.members(mask);
      const isMember = members.some((m) => isSelf(client, m.user));
      if (isMember || !channel.modes.flags.includes('s')) {
        for (const m of members) {
          if ((isMember || !isInvisible(m.user)) && (!operatorsOnly || m.user.modes.includes('o'))) whoReply(channel.name, m.user, prefixOf(m, multi));
        }
      }
    }
  } else {
    const users = (await ctx.state.findUsers(mask)).filter((u) => !operatorsOnly || u.modes.includes('o'));
    const mine = await channelsOfSelf(ctx, client);
    // +i hides a user from masks, not from someone who names it exactly (as WHOIS does not).
    const exact = !/[*?]/.test(mask);
    for (const u of users) {
      let visible = exact || isSelf(client, u) || !isInvisible(u);
      if (!visible) {
        const theirs = await ctx.state.channelsOf(u.nick);
        visible = theirs.some((c) => mine.has(fold(c.name)));
      }
      if (visible) whoReply('*', u, '');
    }
  }
  r.numeric(RPL_ENDOFWHO, param, 'End of WHO list');
  return r.outcome();
}

/**
 * WHOIS [server] <nick>{,<nick>}: per nick 311, 319 (the channels, +s ones hidden unless the
 * asker is in them too), 312, 301 when away, 330 when logged in, 671 when on TLS, 317; 401
 * for an unknown nick.
 * One 318 at the end naming the param as given.
 */
export async function whois(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const param = (msg.params.length >= 2 ? msg.params[1] : msg.params[0]) ?? '';
  const nicks = limitTargets(r, commaList(param), ctx.config.maxTargets);
  if (nicks.length === 0) return r.numeric(ERR_NONICKNAMEGIVEN, 'No nickname given').outcome();
  const multi = client.caps.has('multi-prefix');
  const mine = await channelsOfSelf(ctx, client);
  const now = ctx.now();
  for (const nick of nicks) {
    const u = await ctx.state.user(nick);
    if (!u) {
      r.numeric(ERR_NOSUCHNICK, nick, 'No such nick/channel');
      continue;
    }
    r.numeric(RPL_WHOISUSER, u.nick, u.user, hostParam(u.host), '*', u.realname);
    const self = isSelf(client, u);
    const channels = (await ctx.state.channelsOf(u.nick))
      .filter((c) => self || !c.secret || mine.has(fold(c.name)))
      .map((c) => prefixOf(c, multi) + c.name);
    for (const line of packTrailing(ctx, client, RPL_WHOISCHANNELS, [u.nick], channels)) {
      r.numeric(RPL_WHOISCHANNELS, u.nick, line);
    }
    r.numeric(RPL_WHOISSERVER, u.nick, u.server, serverInfo(ctx));
    if (u.away !== null) r.numeric(RPL_AWAY, u.nick, u.away);
    if (u.modes.includes('o')) r.numeric(RPL_WHOISOPERATOR, u.nick, 'is an IRC operator');
    if (u.modes.includes('B')) r.numeric(RPL_WHOISBOT, u.nick, 'is a bot');
    if (u.account !== null) r.numeric(RPL_WHOISACCOUNT, u.nick, u.account, 'is logged in as');
    if (u.tls) r.numeric(RPL_WHOISSECURE, u.nick, 'is using a secure connection');
    const idle = Math.max(0, Math.floor((now - u.lastActiveAt) / 1000));
    r.numeric(RPL_WHOISIDLE, u.nick, String(idle), unixSeconds(u.signonAt), 'seconds idle, signon time');
  }
  r.numeric(RPL_ENDOFWHOIS, param, 'End of /WHOIS list');
  return r.outcome();
}

/**
 * WHOWAS <nick>{,<nick>} [count]: per nick its remembered holders, newest first (314 and 312
 * with the time they left the nick), or 406; then 369. A count of 0 or less, or none: all.
 */
export async function whowas(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const nicks = limitTargets(r, commaList(msg.params[0]), ctx.config.maxTargets);
  if (nicks.length === 0) return r.numeric(ERR_NONICKNAMEGIVEN, 'No nickname given').outcome();
  const count = Number(msg.params[1]);
  const max = Number.isSafeInteger(count) && count > 0 ? count : Number.POSITIVE_INFINITY;
  for (const nick of nicks) {
    const entries = await ctx.state.whowas(nick, max);
    if (entries.length === 0) r.numeric(ERR_WASNOSUCHNICK, nick, 'There was no such nickname');
    for (const e of entries) {
      r.numeric(RPL_WHOWASUSER, e.nick, e.user, hostParam(e.host), '*', e.realname);
      r.numeric(RPL_WHOISSERVER, e.nick, e.server, new Date(e.at).toUTCString());
    }
    r.numeric(RPL_ENDOFWHOWAS, nick, 'End of WHOWAS');
  }
  return r.outcome();
}

/** ISON <nick>{ <nick>}: 303 with those online, in their own spelling. */
export async function ison(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const online: string[] = [];
  for (const nick of words(msg.params)) {
    const u = await ctx.state.user(nick);
    if (u) online.push(u.nick);
  }
  return new Reply(ctx, client).numeric(RPL_ISON, online.join(' ')).outcome();
}

/** USERHOST <nick>{ <nick>} (up to 5): 302 with `nick=+user@host` (`-` when away). */
export async function userhost(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const replies: string[] = [];
  for (const nick of words(msg.params).slice(0, USERHOST_MAX_NICKS)) {
    const u = await ctx.state.user(nick);
    if (u) replies.push(`${u.nick}${u.modes.includes('o') ? '*' : ''}=${u.away !== null ? '-' : '+'}${u.user}@${u.host}`);
  }
  return new Reply(ctx, client).numeric(RPL_USERHOST, replies.join(' ')).outcome();
}

/** VERSION [server]: 351, then the 005 lines again. */
export function version(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  if (!isThisServer(ctx, r, msg.params[0])) return r.outcome();
  r.numeric(RPL_VERSION, ctx.version, ctx.config.serverName, ctx.config.network);
  isupportReplies(ctx, client, r);
  return r.outcome();
}

/** INFO [server]: 371 lines saying what this server is and where to read more, then 374. */
export function info(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  if (!isThisServer(ctx, r, msg.params[0])) return r.outcome();
  for (const line of [
    `${ctx.version}: an IRC server whose every connection is an explicit XState state machine.`,
    'One process, or many nodes of one network on Redis; accounts in SQLite or PostgreSQL.',
    `Running since ${new Date(ctx.createdAt).toUTCString()}.`,
    'How it works and what it supports: the README and docs/irc.md of xstate-tcp-chat. HELP lists the commands.',
  ]) {
    r.numeric(RPL_INFO, line);
  }
  return r.numeric(RPL_ENDOFINFO, 'End of /INFO list').outcome();
}

/**
 * HELP [<command>] (and HELPOP): the command's help text (helpText.ts) as 704, 705... and 706;
 * without a command, the list of commands; 524 for one there is none on.
 */
export function help(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  const asked = (msg.params[0] ?? '').toUpperCase();
  const subject = asked === '' ? '*' : asked;
  const lines = asked === '' ? helpIndex() : Object.hasOwn(helpText, asked) ? helpText[asked]! : null;
  if (lines === null) return r.numeric(ERR_HELPNOTFOUND, subject, 'No help available on this topic').outcome();
  lines.forEach((line, i) => r.numeric(i === 0 ? RPL_HELPSTART : RPL_HELPTXT, subject, line));
  return r.numeric(RPL_ENDOFHELP, subject, 'End of /HELP').outcome();
}

/** HELP alone: what to type, then the commands, a few to a line. */
function helpIndex(): string[] {
  const names = Object.keys(helpText).sort();
  const lines = ['HELP <command> for help on one of these commands:'];
  for (let i = 0; i < names.length; i += 10) lines.push(names.slice(i, i + 10).join(' '));
  return lines;
}

/** TIME [server]: 391 with the server's time, human-readable (UTC). */
export function time(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  if (!isThisServer(ctx, r, msg.params[0])) return r.outcome();
  return r.numeric(RPL_TIME, ctx.config.serverName, new Date(ctx.now()).toUTCString()).outcome();
}

/** LUSERS: the counts (parameters, historical masks and targets, are ignored). */
export async function lusers(ctx: CommandContext, client: Client): Promise<Outcome> {
  const r = new Reply(ctx, client);
  await lusersReplies(ctx, r);
  return r.outcome();
}

/** MOTD [server]. */
export function motd(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  if (isThisServer(ctx, r, msg.params[0])) motdReplies(ctx, r);
  return r.outcome();
}

/**
 * AWAY [:text]: 306 and away (text cut to AWAYLEN); without text (or empty) 305, back. Either
 * way `AWAY [:text]` goes to its peers and extended-monitor watchers with away-notify.
 */
export async function away(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const text = msg.params[0] ?? '';
  if (text === '') {
    await setAway(ctx, client, r, null);
    return r.numeric(RPL_UNAWAY, 'You are no longer marked as being away').outcome();
  }
  await setAway(ctx, client, r, cut(text, ctx.config.awayLength));
  return r.numeric(RPL_NOWAWAY, 'You have been marked as being away').outcome();
}
