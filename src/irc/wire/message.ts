// Pure IRC message model: one line in, a typed message out; a typed message in, one safe line
// out. No sockets, no state. Parse once, dispatch on the result; serialise once per message.
//
// Parsing follows the Modern IRC Client Protocol's message format and is lenient where real
// clients and servers are sloppy: one or more spaces separate parts (RFC 1459, and what the
// ircdocs/parser-tests data expects), tags without a value or with an empty one read as '',
// the last of a duplicated tag wins, unknown tag escapes drop their backslash. It runs for every
// line every client sends, so it walks the line with indexOf instead of regexes or splits.
//
// Serialising is where hostile text meets the wire. Nicks, topics, reasons and messages come
// from other clients, and a CR, LF or NUL in any of them would end the line early and let the
// rest be read as a second command (or truncate it on C servers). So every field is sanitised
// on the way out, whatever the handlers did or forgot:
//   - CR, LF and NUL become a space, in every field (tag values excepted: the tag escapes carry
//     CR and LF losslessly as `\r` and `\n`; a NUL there becomes a space, written `\s`);
//   - a field that must be one word (source, command, middle params, tag keys) then has each
//     space turned into '_', so it cannot split into two;
//   - a middle param that is empty becomes '*' (the usual "no value" placeholder) and one that
//     starts with ':' has that ':' turned into '_', so neither is read as the trailing param;
//     a command starting with ':' or '@' is treated the same way, so it is never read as a
//     source or tags; an empty source is left out; tag keys also lose ';' and '=' (to '_') and
//     an empty key is left out.
// So parseMessage(serializeMessage(m)) equals m for every message whose words are words.

/** One IRC message (Modern IRC Client Protocol, "Message format"). */
export interface IrcMessage {
  /** Message tags (IRCv3), unescaped. A tag given without a value has the value ''. */
  tags: Record<string, string>;
  /** The source (prefix) without its leading ':', or null. */
  source: string | null;
  /** The command or three-digit numeric, as sent (the dispatcher upper-cases it). */
  command: string;
  /** Parameters; the trailing one (after ' :') is the last element, without its ':'. */
  params: string[];
}

/** A message with no tags and no source. */
export function message(command: string, ...params: string[]): IrcMessage {
  return { tags: {}, source: null, command, params };
}

const SPACE = 0x20;
const COLON = 0x3a;
const AT = 0x40;
const BACKSLASH = 0x5c;

function skipSpaces(line: string, i: number): number {
  while (i < line.length && line.charCodeAt(i) === SPACE) i++;
  return i;
}

/** The end of the word starting at `i`: the next space, or the end of the line. */
function wordEnd(line: string, i: number): number {
  const sp = line.indexOf(' ', i);
  return sp === -1 ? line.length : sp;
}

// IRCv3 message-tags escapes, both ways.
const unescapes: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

function unescapeTagValue(raw: string): string {
  if (raw.indexOf('\\') === -1) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    if (raw.charCodeAt(i) !== BACKSLASH) {
      out += raw[i];
      continue;
    }
    const next = raw[++i];
    // A lone trailing backslash is dropped; an unknown escape keeps only its character.
    if (next !== undefined) out += unescapes[next] ?? next;
  }
  return out;
}

function parseTags(raw: string): Record<string, string> {
  // No prototype: a client's `__proto__` or `constructor` tag is just a tag, and a lookup of a
  // tag the client did not send cannot find an inherited property.
  const tags: Record<string, string> = Object.create(null) as Record<string, string>;
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf(';', start);
    if (end === -1) end = raw.length;
    if (end > start) {
      const eq = raw.indexOf('=', start);
      if (eq === -1 || eq > end) tags[raw.slice(start, end)] = '';
      else if (eq > start) tags[raw.slice(start, eq)] = unescapeTagValue(raw.slice(eq + 1, end));
    }
    start = end + 1;
  }
  return tags;
}

/**
 * Parses one line, without its CR/LF. Null when the line is blank or has no command (tags or
 * a source alone); anything else parses, and the dispatcher judges the command and params.
 */
export function parseMessage(line: string): IrcMessage | null {
  let i = skipSpaces(line, 0);
  let tags: Record<string, string> = {};
  if (line.charCodeAt(i) === AT) {
    const end = wordEnd(line, i);
    tags = parseTags(line.slice(i + 1, end));
    i = skipSpaces(line, end);
  }
  let source: string | null = null;
  if (line.charCodeAt(i) === COLON) {
    const end = wordEnd(line, i);
    source = line.slice(i + 1, end);
    i = skipSpaces(line, end);
  }
  const commandEnd = wordEnd(line, i);
  if (commandEnd === i) return null;
  const command = line.slice(i, commandEnd);
  const params: string[] = [];
  i = skipSpaces(line, commandEnd);
  while (i < line.length) {
    if (line.charCodeAt(i) === COLON) {
      params.push(line.slice(i + 1));
      break;
    }
    const end = wordEnd(line, i);
    params.push(line.slice(i, end));
    i = skipSpaces(line, end);
  }
  return { tags, source, command, params };
}

/** `nick!user@host` split into its parts; a part that is absent is ''. */
export interface Userhost {
  nick: string;
  user: string;
  host: string;
}

/** Splits a message source into nick, user and host (a server name is all nick). */
export function splitUserhost(source: string): Userhost {
  const at = source.indexOf('@');
  let bang = source.indexOf('!');
  // A '!' after the '@' belongs to the host, not a user part.
  if (at !== -1 && bang > at) bang = -1;
  const nickEnd = bang !== -1 ? bang : at !== -1 ? at : source.length;
  return {
    nick: source.slice(0, nickEnd),
    user: bang === -1 ? '' : source.slice(bang + 1, at === -1 ? source.length : at),
    host: at === -1 ? '' : source.slice(at + 1),
  };
}

// Sanitisers (see the top of the file for why each exists).
const lineBreakers = /[\r\n\0]/g;
const wordBreakers = /[\r\n\0 ]/g;
const tagKeyBreakers = /[\r\n\0 ;=]/g;
const tagValueEscapes = /[\\; \r\n\0]/g;
const tagValueEscaped: Record<string, string> = {
  '\\': '\\\\', ';': '\\:', ' ': '\\s', '\r': '\\r', '\n': '\\n', '\0': '\\s',
};

// `replace` returns the string itself when nothing matches, so clean fields cost one scan.
function noLineBreaks(s: string): string {
  return s.replace(lineBreakers, ' ');
}

function oneWord(s: string): string {
  return s.replace(wordBreakers, '_');
}

/** A middle param (or command): one word that cannot be mistaken for the trailing param. */
function middleParam(s: string): string {
  if (s.length === 0) return '*';
  const w = oneWord(s);
  return w.charCodeAt(0) === COLON ? '_' + w.slice(1) : w;
}

/** A tag value as written on the wire (IRCv3 escapes). */
export function escapeTagValue(s: string): string {
  return s.replace(tagValueEscapes, (c) => tagValueEscaped[c] ?? '');
}

/**
 * The parameter that holds free text, for the commands whose text is always written as the
 * trailing parameter, with its ':', even when it is one word: valid IRC may leave the ':' out,
 * but clients and bots in the wild (Pidgin, ZNC 1.6, naive scripts) read `PRIVMSG bob hello`
 * wrongly, so Ergo writes it always and so do we.
 */
const textParamIndex: Readonly<Record<string, number>> = {
  PRIVMSG: 1,
  NOTICE: 1,
  PART: 1,
  QUIT: 0,
  KICK: 2,
  TOPIC: 1,
  AWAY: 0,
  SETNAME: 0,
  RENAME: 2,
  REDACT: 2,
};

/**
 * The wire form of a message, ending in CRLF. Never contains CR, LF or NUL anywhere else,
 * whatever the fields hold (see the top of the file for how each field is made safe). Tags are
 * written in the object's key order (insertion order, except that integer-like keys come first,
 * as JavaScript orders them), a tag with an empty value as a bare key.
 */
export function serializeMessage(msg: IrcMessage): string {
  let out = '';
  let tagSep = '@';
  for (const key of Object.keys(msg.tags)) {
    const k = key.replace(tagKeyBreakers, '_');
    if (k.length === 0) continue;
    const v = msg.tags[key] ?? '';
    out += tagSep + k + (v.length === 0 ? '' : '=' + escapeTagValue(v));
    tagSep = ';';
  }
  if (out.length > 0) out += ' ';
  if (msg.source !== null && msg.source.length > 0) out += ':' + oneWord(msg.source) + ' ';
  let command = middleParam(msg.command);
  if (command.charCodeAt(0) === AT) command = '_' + command.slice(1);
  out += command;
  const last = msg.params.length - 1;
  for (let i = 0; i < last; i++) out += ' ' + middleParam(msg.params[i] ?? '');
  if (last >= 0) {
    const p = noLineBreaks(msg.params[last] ?? '');
    const trailing = p.length === 0 || p.indexOf(' ') !== -1 || p.charCodeAt(0) === COLON || textParamIndex[command] === last;
    out += trailing ? ' :' + p : ' ' + p;
  }
  return out + '\r\n';
}
