// What the server says, applied to the client: one handler per command or numeric, each
// changing the ChatClient's state and telling its view. Registration (CAP, 001, 005, a nick
// taken or refused), channels (JOIN, PART, KICK, TOPIC, NAMES, MODE, RENAME), people (NICK, QUIT) and
// messages (PRIVMSG, NOTICE, CTCP ACTION), answers to what the page labeled (our messages'
// echoes, replies to our typing); accounts (SASL, REGISTER, 900...) in account.ts, deleted
// messages (REDACT) in redaction.ts.
// Pure: no DOM, no socket.

import {
  accountCapsAcked,
  accountCapsRefused,
  accountCapsWanted,
  accountNickTaken,
  accountReplies,
  accountWelcomed,
  handleAccount,
  isService,
  parseCapList,
} from './account.js';

import type { ChatClient, ChatWindow, MessageTags } from './chat.js';
import { fetchHistory, handleHistory, historyCaps, markedRead, welcomedHistory } from './history.js';
import {
  askWhoIsAway,
  awayWhoRenamed,
  awayWhoToken,
  heardTyping,
  isOwnWho,
  isTypingReply,
  setAway,
  stoppedTyping,
  whoEnded,
  whoFlags,
} from './presence.js';
import type { ServerMessage } from './irc.js';
import { handleRedact, redactFailed, redactionCap } from './redaction.js';
import { memberModeChanges, parseNamesEntry, readIsupport, withMode, type Member } from './server.js';
import {
  ERR_BADCHANNAME,
  ERR_BADCHANNELKEY,
  ERR_BANNEDFROMCHAN,
  ERR_CANNOTSENDTOCHAN,
  ERR_CHANNELISFULL,
  ERR_CHANOPRIVSNEEDED,
  ERR_ERRONEUSNICKNAME,
  ERR_INVITEONLYCHAN,
  ERR_NICKNAMEINUSE,
  ERR_NOSUCHCHANNEL,
  ERR_NOSUCHNICK,
  ERR_NOTONCHANNEL,
  ERR_PASSWDMISMATCH,
  RPL_AWAY,
  RPL_ENDOFNAMES,
  RPL_ENDOFWHO,
  RPL_ISUPPORT,
  RPL_LIST,
  RPL_LISTEND,
  RPL_LISTSTART,
  RPL_NAMREPLY,
  RPL_NOTOPIC,
  RPL_NOWAWAY,
  RPL_TOPIC,
  RPL_TOPICWHOTIME,
  RPL_UNAWAY,
  RPL_WELCOME,
  RPL_WHOISCHANNELS,
  RPL_WHOISIDLE,
  RPL_WHOISSECURE,
  RPL_WHOISSERVER,
  RPL_WHOISUSER,
  RPL_WHOREPLY,
  RPL_WHOSPCRPL,
} from '../../irc/wire/numerics.js';

/**
 * The IRCv3 capabilities the page asks for, when the server offers them: server-time for
 * timestamps, echo-message, multi-prefix, away-notify for who is away, message-tags for msgids
 * and typing, labeled-response (with batch, which it needs) to know which answers are to our
 * typing and to our messages, draft/channel-rename so that a renamed channel keeps its window
 * (without it the server shows a PART of the old name and a JOIN of the new: the window, and
 * its log, would close and another open), draft/chathistory and draft/read-marker for what was
 * said while the page was away and how far the user has read (history.ts), and
 * draft/message-redaction to show a deleted message as deleted and delete our own (redaction.ts).
 */
export const wantedCaps = [
  'server-time', 'echo-message', 'multi-prefix', 'away-notify', 'message-tags', 'batch', 'labeled-response',
  'draft/channel-rename', ...historyCaps, redactionCap,
];

/** Replies to a command the user typed: shown in the window they typed it in. */
const whoisReplies = new Set([RPL_WHOISUSER, RPL_WHOISSERVER, RPL_WHOISIDLE, RPL_WHOISCHANNELS, RPL_AWAY, RPL_WHOISSECURE]);
/** Numerics the page reads elsewhere, or that say nothing worth a line. */
const silentReplies = new Set([RPL_ENDOFNAMES, RPL_TOPICWHOTIME, RPL_LISTSTART]);
/** Errors about a channel or nick: shown in its window when there is one. */
const targetErrors = new Set([
  ERR_NOSUCHNICK, ERR_NOSUCHCHANNEL, ERR_CANNOTSENDTOCHAN, ERR_NOTONCHANNEL, ERR_CHANNELISFULL,
  ERR_INVITEONLYCHAN, ERR_BANNEDFROMCHAN, ERR_BADCHANNELKEY, ERR_CHANOPRIVSNEEDED, ERR_BADCHANNAME,
]);

export function handleMessage(chat: ChatClient, msg: ServerMessage): void {
  const p = msg.params;
  const tags = msg.tags;
  // A refused deletion is said in its window; every other FAIL is the account code's.
  if (msg.command === 'FAIL' && p[0] === 'REDACT') return redactFailed(chat, msg);
  if (accountReplies.has(msg.command)) return handleAccount(chat, msg);
  if (handleLabeled(chat, msg)) return;
  if (handleHistory(chat, msg, historyText)) return;
  switch (msg.command) {
    case 'PING':
      chat.send('PONG', [p[0] ?? '']);
      return;
    case 'PONG':
      if (chat.outbox.pong(p[p.length - 1])) chat.pumpOutbox();
      return;
    case 'CAP':
      return handleCap(chat, msg);
    case RPL_WELCOME:
      chat.nick = p[0] ?? chat.wanted;
      chat.view.me(chat.nick);
      chat.registered = true;
      chat.attempt = 0;
      chat.view.status('connected', `Connected as ${chat.nick}`, false);
      chat.info(chat.serverWindow(), p[1] || 'Welcome');
      accountWelcomed(chat);
      chat.rejoin();
      welcomedHistory(chat);
      return;
    case RPL_ISUPPORT:
      for (const token of p.slice(1, -1)) applyIsupport(chat, token);
      return;
    case ERR_ERRONEUSNICKNAME:
    case ERR_NICKNAMEINUSE:
      return handleNickRefused(chat, msg);
    case ERR_PASSWDMISMATCH:
      chat.password = '';
      chat.fatal = 'The server password is wrong.';
      return;
    case 'ERROR':
      chat.serverError = p[0] || 'closed';
      chat.info(chat.serverWindow(), p[0] || 'ERROR', 'error');
      return;
    case 'JOIN':
      return handleJoin(chat, msg, tags);
    case 'PART': {
      const w = chat.findWindow(p[0] ?? '');
      if (!w) return;
      if (chat.isMe(msg.nick)) {
        w.rejoin = false;
        chat.removeWindow(w);
        return;
      }
      chat.removeMember(w, msg.nick);
      stoppedTyping(chat, w, msg.nick);
      chat.add(w, 'part', '', `${msg.nick} left ${w.name}${p[1] ? ` (${p[1]})` : ''}`, tags);
      return;
    }
    case 'QUIT':
      for (const w of [...chat.windows.values()]) {
        const left = w.type === 'channel' ? chat.removeMember(w, msg.nick)
          : w.type === 'query' && chat.fold(w.name) === chat.fold(msg.nick);
        stoppedTyping(chat, w, msg.nick);
        if (left) chat.add(w, 'quit', '', `${msg.nick} quit${p[0] ? ` (${p[0]})` : ''}`, tags);
      }
      return;
    case 'NICK':
      return handleNick(chat, msg, tags);
    case 'RENAME':
      return handleRename(chat, msg, tags);
    case 'KICK': {
      const w = chat.findWindow(p[0] ?? '');
      if (!w) return;
      const kicked = p[1] ?? '';
      chat.removeMember(w, kicked);
      chat.add(w, 'kick', '', `${kicked} was kicked by ${msg.nick}${p[2] ? ` (${p[2]})` : ''}`, tags);
      if (chat.isMe(kicked)) {
        w.joined = false;
        w.rejoin = false;
        w.members = new Map();
        chat.view.windowChanged(w);
        chat.membersChanged(w, true);
      }
      return;
    }
    case 'TOPIC': {
      const w = chat.findWindow(p[0] ?? '');
      if (!w) return;
      w.topic = p[1] ?? '';
      chat.add(w, 'topic', '', msg.nick + (w.topic ? ` set the topic: ${w.topic}` : ' cleared the topic'), tags);
      if (w === chat.current) chat.showHeader();
      return;
    }
    case RPL_NOTOPIC:
    case RPL_TOPIC: {
      const w = chat.findWindow(p[1] ?? '');
      if (!w) return;
      w.topic = msg.command === RPL_TOPIC ? p[2] ?? '' : '';
      if (w.topic) chat.add(w, 'topic', '', `Topic: ${w.topic}`, tags);
      if (w === chat.current) chat.showHeader();
      return;
    }
    case RPL_NAMREPLY: {
      const channel = chat.fold(p[2] ?? '');
      const names = chat.names.get(channel) ?? [];
      chat.names.set(channel, names);
      for (const entry of (p[3] ?? '').split(' ')) {
        const member = parseNamesEntry(entry, chat.settings);
        if (member) names.push(member);
      }
      return;
    }
    case RPL_ENDOFNAMES: {
      const channel = chat.fold(p[1] ?? '');
      const got = chat.names.get(channel) ?? [];
      chat.names.delete(channel);
      const w = chat.findWindow(p[1] ?? '');
      if (!w) return;
      w.members = new Map(got.map((m): [string, Member] => [chat.fold(m.nick), m]));
      chat.membersChanged(w, true);
      // Who is away: WHO's flags now; away-notify's AWAY lines keep it current.
      askWhoIsAway(chat, w);
      return;
    }
    case 'AWAY':
      setAway(chat, msg.nick, p[0] ? p[0] : null);
      return;
    case 'TAGMSG': {
      // Only typing is shown; to a channel, or to us from someone we have a window with.
      const state = msg.tags['+typing'];
      const target = p[0] ?? '';
      const w = chat.isChannel(target) ? chat.findWindow(target) : chat.findWindow(msg.nick);
      if (state !== undefined && w && !chat.isMe(msg.nick)) heardTyping(chat, w, msg.nick, state);
      return;
    }
    case RPL_WHOREPLY:
      // <me> <channel> <user> <host> <server> <nick> <H|G flags> :<hops> <realname>
      whoFlags(chat, p[5] ?? '', p[6] ?? '');
      if (isOwnWho(chat, p[1] ?? '')) return;
      break;
    case RPL_WHOSPCRPL:
      // Ours (WHOX %tnf): <me> <token> <nick> <flags>.
      if (p[1] !== awayWhoToken) break;
      whoFlags(chat, p[2] ?? '', p[3] ?? '');
      return;
    case RPL_ENDOFWHO:
      if (whoEnded(chat, p[1] ?? '')) return;
      break;
    case RPL_AWAY:
      setAway(chat, p[1] ?? '', p[2] ?? '');
      break;
    case RPL_NOWAWAY:
    case RPL_UNAWAY:
      setAway(chat, chat.nick, msg.command === RPL_NOWAWAY ? '' : null);
      break;
    case 'MODE':
      return handleMode(chat, msg, tags);
    case 'PRIVMSG':
    case 'NOTICE':
      return handleText(chat, msg, tags);
    case 'MARKREAD':
      return markedRead(chat, p[0] ?? '', p[1] ?? '');
    case 'REDACT':
      return handleRedact(chat, msg);
    case RPL_LIST:
      chat.add(chat.serverWindow(), 'info', '', ` (${p[2] || '0'}) ${p[3] ?? ''}`, null, false, { channel: p[1] ?? '' });
      return;
    case RPL_LISTEND:
      chat.info(chat.serverWindow(), 'End of the channel list.');
      return;
    default:
      break;
  }
  // Anything not handled above: errors in their window, other numerics as text.
  if (targetErrors.has(msg.command)) {
    chat.info(chat.findWindow(p[1] ?? '') ?? chat.here(), p.slice(1).join(': '), 'error');
  } else if (/^\d{3}$/.test(msg.command)) {
    const text = p.slice(1).join(' ');
    if (Number(msg.command) >= 400) chat.info(chat.here(), text, 'error');
    else if (whoisReplies.has(msg.command)) chat.info(chat.here(), text);
    else if (!silentReplies.has(msg.command)) chat.info(chat.serverWindow(), text);
  }
}

/**
 * Answers to what the page labeled (labeled-response), alone or in a labeled-response batch:
 * those to typing are not shown; those to our messages settle them (echoes.ts). True when
 * `msg` needs nothing more; an error is still shown as any other.
 */
function handleLabeled(chat: ChatClient, msg: ServerMessage): boolean {
  const p = msg.params;
  if (msg.command === 'BATCH') {
    const ref = p[0] ?? '';
    if (ref.startsWith('+') && p[1] === 'labeled-response' && msg.tags.label !== undefined) {
      chat.echoes.batchOpened(ref.slice(1), msg.tags.label);
      return true;
    }
    const label = ref.startsWith('-') ? chat.echoes.batchClosed(ref.slice(1)) : undefined;
    if (label === undefined) return false;
    // Answered without an echo or an error: sent.
    chat.settle(label, { sent: true });
    return true;
  }
  const label = chat.echoes.labelOf(msg.tags);
  if (label === undefined) return false;
  if (isTypingReply(label)) return true;
  if (chat.echoes.windowOf(label) === undefined) return false;
  if ((msg.command === 'PRIVMSG' || msg.command === 'NOTICE') && chat.isMe(msg.nick)) {
    const time = msg.tags.time ? new Date(msg.tags.time) : null;
    const msgid = msg.tags.msgid || undefined;
    chat.settle(label, {
      sent: true, ...(msgid === undefined ? {} : { msgid }), ...(time === null || isNaN(time.getTime()) ? {} : { time }),
    });
    return true;
  }
  if (msg.command === 'ACK') {
    chat.settle(label, { sent: true });
    return true;
  }
  if (/^[45]\d\d$/.test(msg.command) || msg.command === 'FAIL') chat.settle(label, { sent: false, why: p[p.length - 1] || msg.command });
  return false;
}

function applyIsupport(chat: ChatClient, token: string): void {
  const { network, caseMapping, ...rest } = readIsupport(token);
  Object.assign(chat.settings, rest);
  if (caseMapping !== undefined) chat.setCaseMapping(caseMapping);
  if (network !== undefined) chat.setNetwork(network);
}

function handleCap(chat: ChatClient, msg: ServerMessage): void {
  const p = msg.params;
  const sub = (p[1] ?? '').toUpperCase();
  if (sub === 'LS') {
    // CAP LS 302 may come in several lines, each but the last with '*' before the list.
    const more = p[2] === '*';
    chat.capLs.push(...((more ? p[3] : p[2]) ?? '').split(' '));
    if (more) return;
    const offered = parseCapList(chat.capLs);
    const want = [...wantedCaps.filter((c) => offered.has(c)), ...accountCapsWanted(chat, offered)];
    if (want.length > 0) chat.send('CAP', ['REQ', want.join(' ')]);
    else chat.send('CAP', ['END']);
  } else if (sub === 'ACK') {
    for (const c of (p[2] ?? '').split(' ')) if (c && c.charAt(0) !== '-') chat.caps.add(c);
    // Logging in, or creating the account, comes first: it sends CAP END when done.
    if (!chat.registered && !accountCapsAcked(chat)) chat.send('CAP', ['END']);
  } else if (sub === 'NAK') {
    if (chat.registered) return;
    accountCapsRefused(chat);
    chat.send('CAP', ['END']);
  }
}

/** 432 or 433: before registration, a taken nick gets a `_` (or digits); a refused one ends it. */
function handleNickRefused(chat: ChatClient, msg: ServerMessage): void {
  const p = msg.params;
  if (chat.registered) {
    chat.info(chat.here(), `${p[1] ?? ''}: ${p[2] || 'nick unavailable'}`, 'error');
    return;
  }
  if (msg.command === ERR_ERRONEUSNICKNAME) {
    chat.fatal = `The server refused the nick ${p[1] || chat.wanted}: ${p[2] || 'erroneous nickname'}`;
    chat.quitting = true;
    chat.hangUp();
    return;
  }
  if (accountNickTaken(chat)) return;
  chat.wanted = chat.wanted.length < 12 ? chat.wanted + '_' : chat.wanted.slice(0, 8) + Math.floor(chat.random() * 1000);
  chat.info(chat.serverWindow(), `That nick is taken; trying ${chat.wanted}`);
  chat.send('NICK', [chat.wanted]);
}

function handleJoin(chat: ChatClient, msg: ServerMessage, tags: MessageTags): void {
  const name = msg.params[0] ?? '';
  if (chat.isMe(msg.nick)) {
    const w = chat.openWindow(name, 'channel');
    w.joined = true;
    w.rejoin = true;
    w.members = new Map();
    chat.view.windowChanged(w);
    chat.addMember(w, msg.nick);
    chat.add(w, 'join', '', `You joined ${name}`, tags);
    if (chat.pendingShow !== null && chat.fold(chat.pendingShow) === chat.fold(name)) {
      chat.show(w);
      chat.pendingShow = null;
    }
    fetchHistory(chat, w);
    return;
  }
  const w = chat.findWindow(name);
  if (!w) return;
  chat.addMember(w, msg.nick);
  chat.add(w, 'join', '', `${msg.nick} joined ${w.name}`, tags);
}

function handleNick(chat: ChatClient, msg: ServerMessage, tags: MessageTags): void {
  const from = msg.nick;
  const to = msg.params[0] ?? '';
  const mine = chat.isMe(from);
  if (mine) {
    chat.nick = to;
    chat.wanted = to;
    chat.view.me(to);
    chat.view.status('connected', `Connected as ${to}`, false);
  }
  for (const w of [...chat.windows.values()]) {
    if (w.type === 'channel') {
      const m = w.members.get(chat.fold(from));
      if (!m) continue;
      w.members.delete(chat.fold(from));
      m.nick = to;
      w.members.set(chat.fold(to), m);
      chat.membersChanged(w, false);
      chat.add(w, 'nick', '', `${mine ? 'You are' : `${from} is`} now known as ${to}`, tags);
    } else if (w.type === 'query' && chat.fold(w.name) === chat.fold(from)) {
      chat.add(w, 'nick', '', `${from} is now known as ${to}`, tags);
      chat.renameWindow(w, to);
    } else if (w.type === 'server' && mine) {
      chat.add(w, 'nick', '', `You are now known as ${to}`, tags);
    }
  }
}

/**
 * RENAME <#old> <#new> [:reason] (draft/channel-rename): the channel's window takes the new
 * name in place (ChatClient.renameWindow), with its log, members, topic, unread count and who is
 * typing, and stays shown if it was; a change of case only is a rename too. A channel we are
 * not in has no window to rename: ignored. The 353s being gathered (names) and the JOIN to show
 * (pendingShow) keep their names: each waits for a reply that names the channel as it was asked.
 */
function handleRename(chat: ChatClient, msg: ServerMessage, tags: MessageTags): void {
  const [from = '', to = '', reason = ''] = msg.params;
  const w = chat.findWindow(from);
  if (!w || w.type !== 'channel' || !w.joined || !chat.isChannel(to)) return;
  const before = w.key;
  chat.renameWindow(w, to);
  awayWhoRenamed(chat, before, w.key);
  const who = chat.isMe(msg.nick) ? 'You' : msg.nick;
  chat.add(w, 'rename', '', `${who} renamed ${from} to ${to}${reason ? ` (${reason})` : ''}`, tags);
}

function handleMode(chat: ChatClient, msg: ServerMessage, tags: MessageTags): void {
  const p = msg.params;
  const w = chat.findWindow(p[0] ?? '');
  if (!w || w.type !== 'channel') return;
  for (const change of memberModeChanges(p[1] ?? '', p.slice(2), chat.settings)) {
    const member = w.members.get(chat.fold(change.nick));
    if (!member) continue;
    member.modes = withMode(member.modes, change.mode, change.add);
    chat.membersChanged(w, false);
  }
  chat.add(w, 'mode', '', `${msg.nick} set mode ${p.slice(1).join(' ')}`, tags);
}

/** A PRIVMSG's or NOTICE's text and kind: an ACTION is shown as one; null for other CTCP. */
function textOf(msg: ServerMessage): { kind: 'privmsg' | 'notice' | 'action'; text: string } | null {
  const text = msg.params[1] ?? '';
  if (text.charAt(0) !== '\x01') return { kind: msg.command === 'NOTICE' ? 'notice' : 'privmsg', text };
  const ctcp = text.replace(/^\x01|\x01$/g, '');
  if (ctcp.slice(0, 7).toUpperCase() !== 'ACTION ') return null; // other CTCP requests are not shown
  return { kind: 'action', text: ctcp.slice(7) };
}

/** A message from a history batch: in the batch's window, at its place in time. */
function historyText(chat: ChatClient, w: ChatWindow, msg: ServerMessage, tags: MessageTags, place: 'top' | 'time'): void {
  const t = textOf(msg);
  if (t === null) return;
  const mine = msg.nick !== '' && chat.isMe(msg.nick);
  chat.add(w, t.kind, msg.nick || chat.settings.network, t.text, tags, mine, { older: place });
}

/** PRIVMSG and NOTICE: to a channel's window, a private window, or (from a server) the server's. */
function handleText(chat: ChatClient, msg: ServerMessage, tags: MessageTags): void {
  const target = msg.params[0] ?? '';
  const t = textOf(msg);
  if (t === null) return;
  const { kind, text } = t;
  const fromServer = !msg.nick || msg.nick.indexOf('.') !== -1 || msg.source.indexOf('!') === -1;
  const mine = !fromServer && chat.isMe(msg.nick);
  // NickServ's and ChanServ's notices answer what the user just did: shown where they are.
  const service = kind === 'notice' && !fromServer && isService(chat, msg.nick);
  const w = chat.isChannel(target) ? chat.findWindow(target)
    : fromServer ? chat.serverWindow()
    : service ? chat.findWindow(msg.nick) ?? chat.here()
    : chat.openWindow(mine ? target : msg.nick, 'query');
  if (!w) return;
  if (!fromServer) stoppedTyping(chat, w, msg.nick);
  chat.add(w, kind, fromServer ? msg.nick || chat.settings.network : msg.nick, text, tags, mine);
}
