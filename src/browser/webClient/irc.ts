// The web client's IRC, on top of the server's own wire code (src/irc/wire/): the same parser,
// serialiser, case folding and line splitting, so the page reads and writes lines exactly as
// the server does. What is here is what only a client needs: the nick of a message's sender,
// the case mapping the server announced, and the room a PRIVMSG leaves for text. Pure.

import { fold as foldRfc1459 } from '../../irc/wire/casemap.js';
import { message, parseMessage, serializeMessage, splitUserhost } from '../../irc/wire/message.js';
import { splitText, utf8Bytes } from '../../irc/wire/split.js';

/** A line from the server, as the page reads it. */
export interface ServerMessage {
  tags: Record<string, string>;
  /** The source without its ':', '' when there is none. */
  source: string;
  /** The nick part of the source (all of it for a server name). */
  nick: string;
  /** Upper-cased, so that handlers compare with one spelling. */
  command: string;
  params: string[];
}

/** Parses one line (one WebSocket message); null when it holds no command. */
export function parseLine(line: string): ServerMessage | null {
  const msg = parseMessage(line);
  if (!msg) return null;
  const source = msg.source ?? '';
  const nick = splitUserhost(source).nick;
  return { tags: msg.tags, source, nick, command: msg.command.toUpperCase(), params: msg.params };
}

/** One line to send, without CRLF: the WebSocket transport sends one line per message. */
export function lineOf(command: string, params: readonly string[]): string {
  return serializeMessage(message(command, ...params)).slice(0, -2);
}

/**
 * The fold for the CASEMAPPING the server announced: the server's own rfc1459 fold (what this
 * server announces, and what a client assumes until told), or ASCII letters only for `ascii`.
 */
export function folderFor(caseMapping: string): (name: string) => string {
  return caseMapping === 'ascii' ? foldAscii : foldRfc1459;
}

function foldAscii(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** RFC 1459's line, CRLF included. */
const lineBytes = 512;
/** The host the server puts in our source is not known here: this much is kept for it. */
const hostAllowance = 64;
/** Never split into pieces smaller than this, however long the nick and target. */
const minPieceBytes = 64;

/** Who sends a PRIVMSG and where, which decides how much text one line can carry. */
export interface Sender {
  nick: string;
  user: string;
  target: string;
}

/**
 * Splits text to send into pieces whose PRIVMSG, as the server relays it to others
 * (`:nick!~user@host PRIVMSG target :piece`), fits the 512-byte line. `extra` is what wraps
 * each piece (9 bytes for a CTCP ACTION).
 */
export function messagePieces(text: string, from: Sender, extra = 0): string[] {
  const overhead = utf8Bytes(`:${from.nick}!~${from.user}@ PRIVMSG ${from.target} :\r\n`) + hostAllowance + extra;
  return splitText(text, Math.max(minPieceBytes, lineBytes - overhead), 'cut');
}
