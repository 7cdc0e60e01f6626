// Case mapping: the one rule by which nicks and channel names compare equal. The server
// advertises `CASEMAPPING=rfc1459` in 005 and folds with this everywhere (nick ownership,
// channel lookup, ban masks), so `Nick`, `NICK` and `nick` are one nick, and so are `[a]` and
// `{a}`: RFC 1459 counts `[]\~` as the upper case of `{}|^`. The web client folds with this
// file too (src/browser/webClient/irc.ts), so page and server agree on who is who.

import { utf8Bytes } from './split.js';

/** The CASEMAPPING token value this server advertises and honours. */
export const caseMapping = 'rfc1459';

/** Folds a nick or channel name to its canonical (lower) form under rfc1459. */
export function fold(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // A-Z -> a-z, and [ \ ] ^ (0x5B-0x5E) -> { | } ~ (0x7B-0x7E): both are +0x20.
    out += (c >= 0x41 && c <= 0x5e) ? String.fromCharCode(c + 0x20) : name[i];
  }
  return out;
}

/** True when two names are the same under the case mapping. */
export function sameName(a: string, b: string): boolean {
  return a.length === b.length && fold(a) === fold(b);
}

// Nicks: RFC 2812's grammar, `( letter / special ) *( letter / digit / special / "-" )` with
// special = `[ ] \ ` _ ^ { | }`, so a nick may start with a special character (`[away]`, `_x`)
// but not with a digit or '-'. That ASCII set already keeps out everything the modern rules
// forbid (space, `, * ? ! @ .`, a leading `# & : $`), and a nick stays one word that folds the
// same way everywhere. Only the length limit (NICKLEN) is ours.
const nickFirst = /^[A-Za-z[\]\\`_^{|}]/;
const nickRest = /^[A-Za-z0-9[\]\\`_^{|}-]*$/;

/** True when `nick` is an acceptable nick of at most `maxLen` characters. */
export function isValidNick(nick: string, maxLen: number): boolean {
  return nick.length > 0 && nick.length <= maxLen && nickFirst.test(nick) && nickRest.test(nick);
}

// Channels: CHANTYPES=# and what no channel name may hold: space and comma separate names and
// params; control characters (C0 with NUL/CR/LF/BEL, DEL, C1) would break the line or reach
// terminals that print LIST, JOIN and NAMES raw (an ESC [2J clears a screen); bidi controls and
// zero-width characters make one channel look like another. Anything else, UTF-8 and ':'
// included, is allowed. A bare '#' is refused: it has no name to show or fold.
const channelForbidden = /[ ,\0-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

/** True when `name` is an acceptable channel name of at most `maxLen` bytes (UTF-8). */
export function isValidChannelName(name: string, maxLen: number): boolean {
  return name.length > 1 && name.charCodeAt(0) === 0x23 && !channelForbidden.test(name)
    && utf8Bytes(name) <= maxLen;
}

/**
 * True when `nickUserHost` matches the ban-style `mask`: '*' is any run of characters, '?' any
 * one, both sides compared folded, as the case mapping says names compare.
 *
 * Not a regex: a mask is operator-supplied text, and a backtracking regex for a mask like
 * `*a*a*a*a*a*b` takes exponential time on a long enough name. This is the classic greedy
 * match that remembers only the last '*', at most O(mask × name) steps. '?' matches one UTF-16
 * unit, which is one character for the ASCII of nicks, users and hosts.
 */
export function matchesMask(mask: string, nickUserHost: string): boolean {
  const m = fold(mask);
  const s = fold(nickUserHost);
  let mi = 0;
  let si = 0;
  let star = -1; // mask index just after the last '*' seen
  let resume = 0; // name index that '*' has absorbed up to
  while (si < s.length) {
    const c = m[mi];
    if (c === '*') {
      star = ++mi;
      resume = si;
    } else if (c !== undefined && (c === '?' || c === s[si])) {
      mi++;
      si++;
    } else if (star !== -1) {
      mi = star;
      si = ++resume;
    } else {
      return false;
    }
  }
  while (m[mi] === '*') mi++;
  return mi === m.length;
}
