// The web client's state and everything it decides, without the DOM: the windows (the server,
// channels, private messages) with their members and unread counts, who we are, where the
// connection stands, and what goes to the server. It tells the page what to draw through a
// ChatView and sends lines through a ChatSocket, so tests drive it with fakes; view.ts draws,
// main.ts owns the WebSocket and the timers. What the server says is handled in incoming.ts,
// what the user types in commands.ts, logging in and creating accounts in account.ts;
// client.ts joins them to this class (WebChat), so that those can use this class without it
// importing them back; who is away and who is typing are in presence.ts. Each message is shown
// once per window by its msgid (msgids.ts); our own, with labeled-response, at once as sending
// until the server answers it (echoes.ts); a message deleted (REDACT) as a placeholder
// (redaction.ts).
// Longer than 500 lines because the state and the small decisions that read it (windows,
// members, sending) are one class; the handlers that can be functions of it already live
// beside it, and moving the interfaces out would make an import cycle.

import { folderFor, lineOf, messagePieces } from './irc.js';
import { reconnectDelayMs } from './backoff.js';
import { Outbox } from './outbox.js';
import { colourOf, clean } from './text.js';
import { defaultSettings, isChannel, serviceNicks, sortMembers, symbolOf, type Member, type ServerSettings } from './server.js';
import { TypingOut, typingText, type Typers } from './typing.js';
import { OwnIds, SeenIds } from './msgids.js';
import { Echoes, type SentResult } from './echoes.js';
import { isUnreadHistory, newHistory, noteLine, type WindowHistory } from './windowHistory.js';

/** Logging in or creating an account while connecting: account.ts moves it on (see there). */
export type AccountStep = 'none' | 'sasl' | 'authenticating' | 'register' | 'registering' | 'registerLater' | 'nickServLater';

export type WindowType = 'server' | 'channel' | 'query';

/** The `data-kind` of a log line, which the style colours. */
export type LineKind =
  | 'privmsg' | 'notice' | 'action'
  | 'join' | 'part' | 'quit' | 'nick' | 'mode' | 'topic' | 'kick' | 'rename'
  | 'info' | 'error';

/** The `data-state` of the status bar. */
export type ConnectionState = 'connecting' | 'registering' | 'connected' | 'disconnected' | 'refused';

export interface ChatWindow {
  /** The folded name (`:server` for the server window): the window's identity. */
  key: string;
  /** As first seen or last renamed; the server window's is the network's name. */
  name: string;
  type: WindowType;
  /** A channel we are in now. */
  joined: boolean;
  /** A channel to join again after a reconnect. */
  rejoin: boolean;
  topic: string;
  /** By folded nick. */
  members: Map<string, Member>;
  unread: number;
  /** Who is typing here now (typing.ts). */
  typers: Typers;
  /** The msgids of the messages shown here (msgids.ts): a message is shown once. */
  seen: SeenIds;
  /** The msgids of our own messages here, for /delete (redaction.ts). */
  own: OwnIds;
  /** What the server's history has given it, and how far it has been read (history.ts). */
  history: WindowHistory;
}

/** A line's IRCv3 tags, as parsed: `time` (server-time) and `msgid` are read. */
export type MessageTags = Readonly<Record<string, string>>;

/** One line of a window's log, ready to show as text. */
export interface LogLine {
  kind: LineKind;
  /** Who said it ('* nick' for an action) and the colour class of that nick; null for none. */
  from: { text: string; colour: string } | null;
  /** Cleaned (see text.ts). */
  text: string;
  /** A channel the line offers to join (a /list entry), shown before the text. */
  channel?: string;
  time: Date;
  /** Sent by us. */
  mine: boolean;
  /** The message's IRCv3 msgid, when the server gave one (message-tags). */
  msgid?: string;
  /** Ours, on its way: the label its answer will carry (shown as sending until `settled`). */
  sending?: string;
  /**
   * From the server's history, not after the lines: at the `top` (a page of older lines, given
   * newest first), or among them by its `time` (a join's history, a reconnect's gap).
   */
  older?: 'top' | 'time';
}

/** One row of the member list. */
export interface MemberRow {
  nick: string;
  /** The nick with its prefix symbol (`@alice`). */
  text: string;
  colour: string;
  /** Away: its message ('' when not known); null when here. Drawn greyed. */
  away: string | null;
}

/** What the page draws; every call says what changed, and the page changes just that. */
export interface ChatView {
  windowOpened(w: ChatWindow): void;
  windowClosed(w: ChatWindow): void;
  /** Its name, key or joined flag changed. */
  windowChanged(w: ChatWindow): void;
  /** `w` is now the window shown (its unread count is back to 0). */
  windowShown(w: ChatWindow, previous: ChatWindow | null): void;
  /** A line for `w`'s log (and `w.unread` may have grown). */
  line(w: ChatWindow, line: LogLine): void;
  /** Our line shown as sending with this label is answered: sent (echoed), or not, and why. */
  settled(w: ChatWindow, label: string, result: SentResult): void;
  /** The name and topic of the window shown. */
  header(title: string, topic: string): void;
  /** Who is typing in the window shown (`alice is typing…`), or '' for no one. */
  typing(text: string): void;
  /**
   * The member list of the window shown changed: `rows` gives it (null outside a channel).
   * Not `now`, the page may wait and draw once for a burst of changes.
   */
  members(rows: () => MemberRow[] | null, now: boolean): void;
  status(state: ConnectionState, text: string, canRetry: boolean): void;
  /** Our nick. */
  me(nick: string): void;
  /** The account we are logged in to; null when none. */
  account(name: string | null): void;
  /** Back to the login form, with this error: the server refused us for good. */
  loginFailed(error: string): void;
  /** `w.unread` changed without a line (read elsewhere). */
  unreadChanged(w: ChatWindow): void;
  /** The account has read `w` up to `at`: the "new messages" line goes after it. */
  readMarker(w: ChatWindow, at: number): void;
  /**
   * The message with this msgid in `w` was deleted (REDACT): its line keeps its time and sender
   * and shows `text` (`(message deleted)`, with the reason when one was given) instead of its own.
   */
  redacted(w: ChatWindow, msgid: string, text: string): void;
  /** Our line with this msgid in `w` may be deleted: it offers a control to (redaction.ts). */
  deletable(w: ChatWindow, msgid: string): void;
}

/** The connection, as the client uses it. */
export interface ChatSocket {
  /** Sends one line; false when the connection is not open. */
  send(line: string): boolean;
  close(): void;
}

export interface ChatPorts {
  view: ChatView;
  socket: ChatSocket;
  /** ms since the epoch, for lines that carry no server-time. */
  now?: () => number;
  /** In [0, 1): backoff jitter, and the digits of a nick tried when ours is taken. */
  random?: () => number;
}

/** What the login form gives. */
export interface Login {
  nick: string;
  channels: string;
  /** The account's password (or the server's, when it has no SASL); '' for none. */
  password: string;
  /** Create an account for the nick with this password. */
  createAccount?: boolean;
}

/** After a drop: what to show, and when to connect again. */
export interface Retry {
  state: ConnectionState;
  why: string;
  delayMs: number;
}

interface Queued {
  line: string;
  w: ChatWindow;
  piece: string;
  action: boolean;
  /** Its labeled-response label (echoes.ts), or null when it is not labeled. */
  label: string | null;
}

const serverKey = ':server';

/** A piece of what the user said, as one line to `target` (labeled when `label` is not null). */
function privmsgLine(target: string, piece: string, action: boolean, label: string | null): string {
  const line = lineOf('PRIVMSG', [target, action ? `\x01ACTION ${piece}\x01` : piece]);
  return label === null ? line : `@label=${label} ${line}`;
}

// A nick is one word; the server judges the rest (432 sends the user back to this form).
const loginNick = /^[^\s,*?!@#:&$][^\s,*?!@:]*$/;

export abstract class ChatClient {
  readonly view: ChatView;
  private readonly socket: ChatSocket;
  /** ms since the epoch (the page's clock; tests give their own). */
  readonly clock: () => number;
  readonly random: () => number;

  settings: ServerSettings = defaultSettings();
  fold: (name: string) => string = folderFor(this.settings.caseMapping);
  /** Our nick on the server, and the one we ask for (kept across reconnects). */
  nick = '';
  wanted = '';
  user = 'web';
  /** Kept until it is used (account.ts), never stored. */
  password = '';
  createAccount = false;
  /** The account to log in to or create: the nick the user typed. */
  accountName = '';
  accountStep: AccountStep = 'none';
  /** The account we are logged in to now; the last one we were, to say so after a reconnect. */
  account: string | null = null;
  knownAccount: string | null = null;
  /** The WebSocket opened; registration done; the user asked to quit. */
  opened = false;
  registered = false;
  quitting = false;
  /** Why the server refused us for good (bad nick, bad password): back to the login form. */
  fatal: string | null = null;
  /** The text of the server's ERROR, which says why it closed the connection. */
  serverError: string | null = null;
  /** Reconnects since the last success. */
  attempt = 0;
  /** The page is in view (main.ts): only then is what the window shows read (history.ts). */
  visible = true;
  caps = new Set<string>();
  capLs: string[] = [];
  readonly windows = new Map<string, ChatWindow>();
  current: ChatWindow | null = null;
  /** A channel being joined whose window is shown once we are in. */
  pendingShow: string | null = null;
  /** 353 entries per folded channel name, until its 366. */
  readonly names = new Map<string, Member[]>();
  readonly outbox = new Outbox<Queued>();
  /** Our labeled messages waiting for their echo (echoes.ts). */
  readonly echoes = new Echoes<ChatWindow>();

  constructor(ports: ChatPorts) {
    this.view = ports.view;
    this.socket = ports.socket;
    this.clock = ports.now ?? Date.now;
    this.random = ports.random ?? Math.random;
  }

  // ---- Login and connection ----------------------------------------------------------------

  /** Takes the login form: an error to show, or null and the chat opens (then connect). */
  login(form: Login): string | null {
    const nick = form.nick.trim();
    if (!loginNick.test(nick)) return 'A nick is one word, with no spaces or , * ? ! @ :';
    if (form.createAccount && !form.password) return 'Choose a password for the new account.';
    this.wanted = nick;
    this.accountName = nick;
    this.user = nick.replace(/[^A-Za-z0-9]/g, '').slice(0, 10) || 'web';
    this.password = form.password;
    this.createAccount = form.createAccount === true;
    this.serverWindow();
    this.joinChannels(form.channels, false);
    const first = form.channels.split(',').map((n) => n.trim()).find(Boolean);
    if (first) this.show(this.findWindow(this.channelName(first)));
    this.attempt = 0;
    return null;
  }

  /** A new WebSocket is being opened. */
  socketOpening(): void {
    this.opened = false;
    this.registered = false;
    this.serverError = null;
    this.quitting = false;
    this.caps = new Set();
    this.capLs = [];
    this.accountStep = 'none';
    this.account = null;
    this.view.account(null);
    this.nick = this.wanted;
    this.view.status('connecting', 'Connecting\u2026', false);
  }

  /**
   * It opened: register (capabilities, nick, user). CAP holds registration open until the
   * capabilities are settled and the password used (account.ts): then CAP END.
   */
  socketOpened(): void {
    this.opened = true;
    this.awayWho.asking = null;
    this.awayWho.queue.length = 0;
    this.typingOut.forget();
    this.view.status('registering', `Connected, signing in as ${this.wanted}\u2026`, false);
    this.send('CAP', ['LS', '302']);
    this.send('NICK', [this.wanted]);
    this.send('USER', [this.user, '0', '*', 'Web client']);
  }

  /** One WebSocket message from the server (handled in incoming.ts). */
  abstract receive(line: string): void;

  /** It closed with this WebSocket code: null when the page is not to reconnect. */
  socketClosed(code: number): Retry | null {
    const wasRegistered = this.registered;
    this.registered = false;
    const dropped = this.outbox.clear();
    if (dropped > 0) this.info(this.here(), `${dropped} message(s) were not sent.`, 'error');
    for (const [label, w] of this.echoes.dropped()) {
      this.view.settled(w, label, { sent: false, why: 'the connection dropped before the server confirmed it' });
    }
    for (const w of this.windows.values()) {
      if (w.type !== 'channel') continue;
      if (w.joined) w.rejoin = true;
      w.joined = false;
      w.members = new Map();
      this.view.windowChanged(w);
    }
    this.membersChanged(this.current, true);
    if (this.fatal !== null) {
      this.password = '';
      this.createAccount = false;
      this.view.loginFailed(this.fatal);
      this.fatal = null;
      return null;
    }
    const why = this.serverError !== null ? `The server closed the connection: ${this.serverError}`
      : !this.opened ? 'Could not connect to the chat server: it is down, unreachable, or refused the connection.'
      : code === 1009 ? 'The server closed the connection: a message was too big.'
      : 'The connection to the chat server was lost.';
    if (wasRegistered || this.opened) {
      for (const w of [...this.windows.values()]) {
        if (w.type === 'server' || w.rejoin || w === this.current) this.info(w, `Disconnected. ${why}`, 'error');
      }
    }
    if (this.quitting) {
      this.view.status('disconnected', `Disconnected. ${why}`, true);
      return null;
    }
    const delayMs = reconnectDelayMs(this.attempt++, this.random);
    return { state: this.opened ? 'disconnected' : 'refused', why, delayMs };
  }

  /** What the user typed in the message box (run in commands.ts). */
  abstract input(text: string): void;

  // ---- Sending -----------------------------------------------------------------------------

  sendLine(line: string): boolean {
    return this.socket.send(line);
  }

  send(command: string, params: readonly string[]): boolean {
    return this.sendLine(lineOf(command, params));
  }

  /** Closes the connection (the server refused our nick for good). */
  hangUp(): void {
    this.socket.close();
  }

  /** Text typed into a window: PRIVMSGs (or actions) cut to fit, paced by the outbox. */
  say(w: ChatWindow, text: string, action: boolean): void {
    if (w.type === 'server') {
      const how = 'join a channel (/join #name) or write to someone (/msg nick text) to talk.';
      this.info(w, `This is the server window: ${how}`, 'error');
      return;
    }
    if (!this.registered) {
      this.info(w, 'Not connected: the message was not sent.', 'error');
      return;
    }
    this.typingOut.sent(w.key);
    // Labeled, our message is shown at once and settled by its echo; a message to ourselves
    // comes back twice, once labeled: it is shown when it comes; one to a service is not echoed.
    const labeled = this.caps.has('echo-message') && this.caps.has('labeled-response') && this.caps.has('batch')
      && !this.isMe(w.name) && !serviceNicks.includes(this.fold(w.name));
    for (const piece of messagePieces(text, { nick: this.nick, user: this.user, target: w.name }, action ? 9 : 0)) {
      const label = labeled ? this.echoes.label(w) : null;
      this.outbox.push({ w, line: privmsgLine(w.name, piece, action, label), piece, action, label });
    }
    this.pumpOutbox();
  }

  /** Our labeled message is answered (echoes.ts): the page shows how it ended. */
  settle(label: string, result: SentResult): void {
    const w = this.echoes.answered(label);
    if (!w) return;
    if (result.sent && result.msgid !== undefined) w.seen.first(result.msgid);
    this.view.settled(w, label, result);
    if (result.sent && result.msgid !== undefined) this.ownMessage(w, (result.time ?? new Date(this.clock())).getTime(), result.msgid);
  }

  /** Our message `msgid` in `w`, said at `at`: /delete can name it, and its line offers to delete it. */
  private ownMessage(w: ChatWindow, at: number, msgid: string): void {
    w.own.note(at, msgid);
    if (this.caps.has('draft/message-redaction')) this.view.deletable(w, msgid);
  }

  /** Sends the next chunk of the outbox, unless one is on its way. */
  pumpOutbox(): void {
    if (!this.registered) return;
    const chunk = this.outbox.take();
    for (const next of chunk.items) {
      this.sendLine(next.line);
      const kind = next.action ? 'action' : 'privmsg';
      // With echo-message the server sends our message back: shown then, unless it was labeled.
      if (next.label !== null) this.add(next.w, kind, this.nick, next.piece, null, true, { sending: next.label });
      else if (!this.caps.has('echo-message')) this.add(next.w, kind, this.nick, next.piece, null, true);
    }
    if (chunk.ping !== null) this.send('PING', [chunk.ping]);
  }

  /** Joins now, or once registered; with `focus`, the last one's window is shown when joined. */
  joinChannels(list: string, focus: boolean): void {
    const names = list.split(',').map((n) => n.trim()).filter(Boolean).map((n) => this.channelName(n));
    if (names.length === 0) return;
    if (!this.registered) {
      for (const n of names) this.openWindow(n, 'channel').rejoin = true;
      return;
    }
    if (focus) this.pendingShow = names[names.length - 1]!;
    this.send('JOIN', [names.join(',')]);
  }

  /** Joins again the channels we were in, after a reconnect. */
  rejoin(): void {
    const names = [...this.windows.values()].filter((w) => w.type === 'channel' && w.rejoin).map((w) => w.name);
    if (names.length > 0) this.joinChannels(names.join(','), false);
  }

  // ---- Windows -----------------------------------------------------------------------------

  isChannel(name: string): boolean {
    return isChannel(name, this.settings);
  }

  /** `room` as a channel name: `#room`. */
  channelName(name: string): string {
    return this.isChannel(name) ? name : '#' + name;
  }

  isMe(nick: string): boolean {
    return this.fold(nick) === this.fold(this.nick);
  }

  findWindow(name: string): ChatWindow | null {
    return this.windows.get(this.fold(name)) ?? null;
  }

  openWindow(name: string, type: WindowType): ChatWindow {
    const key = type === 'server' ? serverKey : this.fold(name);
    const found = this.windows.get(key);
    if (found) return found;
    const w: ChatWindow = {
      key, name, type, joined: false, rejoin: type === 'channel', topic: '', members: new Map(), unread: 0,
      typers: new Map(), seen: new SeenIds(), own: new OwnIds(), history: newHistory(),
    };
    this.windows.set(key, w);
    this.view.windowOpened(w);
    if (!this.current) this.show(w);
    return w;
  }

  serverWindow(): ChatWindow {
    return this.openWindow(this.settings.network, 'server');
  }

  /** The window shown (the server window when there is none yet). */
  here(): ChatWindow {
    return this.current ?? this.serverWindow();
  }

  /** The user closed `w`: a joined channel is parted (the server's PART then removes it). */
  closeWindow(w: ChatWindow): void {
    if (w.type === 'server') return;
    if (w.type === 'channel' && w.joined) {
      w.rejoin = false;
      this.send('PART', [w.name]);
      return;
    }
    this.removeWindow(w);
  }

  removeWindow(w: ChatWindow): void {
    this.windows.delete(w.key);
    this.view.windowClosed(w);
    if (this.current === w) {
      this.current = null;
      this.show(this.windows.get(serverKey) ?? null);
    }
  }

  /**
   * `w` is now called `name` (a nick changed, a channel renamed): the same window, with its
   * log, members and unread count, shown if it was. What is keyed by its key moves to the new
   * one; a stale window that had that key (a channel we were kicked from, the private window of
   * someone gone) closes, as two windows cannot share a name. Its messages still waiting in the
   * outbox go to the new name: the old one may be gone, or someone else's.
   */
  renameWindow(w: ChatWindow, name: string): void {
    const key = w.type === 'server' ? serverKey : this.fold(name);
    if (key !== w.key) {
      const stale = this.windows.get(key);
      if (stale) {
        const shown = this.current === stale;
        this.removeWindow(stale);
        if (shown) this.show(w);
      }
      this.windows.delete(w.key);
      this.typingOut.rename(w.key, key);
      w.key = key;
      this.windows.set(key, w);
    }
    w.name = name;
    this.outbox.rewrite((q) => (q.w === w ? { ...q, line: privmsgLine(name, q.piece, q.action, q.label) } : q));
    this.view.windowChanged(w);
    if (this.current === w) this.showHeader();
  }

  /** A private-message window with `nick`, shown; false for ourselves (none opens). */
  openQuery(nick: string): boolean {
    if (this.isMe(nick)) return false;
    this.show(this.openWindow(nick, 'query'));
    return true;
  }

  show(w: ChatWindow | null): void {
    if (!w) return;
    const previous = this.current;
    this.current = w;
    w.unread = 0;
    this.view.windowShown(w, previous);
    this.showHeader();
    this.membersChanged(w, true);
    this.view.typing(typingText(w.typers));
    this.read(w, true);
  }

  /** The user sees `w` up to its newest line (history.ts tells the server; `now`: at once). */
  abstract read(w: ChatWindow, now: boolean): void;
  /** Our own typing, per window (presence.ts), and how many of its TAGMSGs were labeled. */
  readonly typingOut = new TypingOut();
  typingLabels = 0;

  showHeader(): void {
    const w = this.current;
    if (!w) return;
    this.view.header(w.type === 'server' ? this.settings.network : w.name, w.type === 'channel' ? clean(w.topic) : '');
  }

  /** The server announced its name (NETWORK): the server window takes it. */
  setNetwork(name: string): void {
    this.settings.network = name;
    const w = this.windows.get(serverKey);
    if (w) this.renameWindow(w, name);
  }

  /**
   * A line in `w`'s log, at the server-time of its `tags` when there is one; false when its
   * msgid was shown there already, and it is not shown again.
   */
  add(
    w: ChatWindow, kind: LineKind, nick: string, text: string, tags?: MessageTags | null, mine = false,
    more: Pick<LogLine, 'channel' | 'sending' | 'older'> = {},
  ): boolean {
    const msgid = tags?.msgid || undefined;
    if (msgid !== undefined && !w.seen.first(msgid)) return false;
    const time = tags?.time;
    let when = new Date(time ? time : this.clock());
    if (isNaN(when.getTime())) when = new Date(this.clock());
    const from = nick ? { text: kind === 'action' ? `* ${nick}` : nick, colour: colourOf(nick, this.fold) } : null;
    const talk = kind === 'privmsg' || kind === 'action' || (kind === 'notice' && w.type !== 'server');
    // Only a message with a msgid can be in the server's history: a service's notice shown here
    // after a reconnect must not pass for the newest line, or the gap before it is never asked.
    if (talk && msgid !== undefined) noteLine(w.history, when.getTime(), msgid);
    // A line from the history is unread only past the account's read marker (history.ts).
    if (talk && w !== this.current && !mine && (!more.older || isUnreadHistory(w.history, when.getTime()))) w.unread++;
    this.view.line(w, { kind, from, text: clean(text), time: when, mine, ...more, ...(msgid === undefined ? {} : { msgid }) });
    if (talk && mine && msgid !== undefined) this.ownMessage(w, when.getTime(), msgid);
    if (talk && w === this.current) this.read(w, false);
    return true;
  }

  /** A line from the page itself (`info`, or `error` for what went wrong). */
  info(w: ChatWindow | null, text: string, kind: LineKind = 'info'): void {
    this.add(w ?? this.serverWindow(), kind, '', text);
  }

  // ---- Members -----------------------------------------------------------------------------

  addMember(w: ChatWindow, nick: string, modes = ''): void {
    w.members.set(this.fold(nick), { nick, modes });
    this.membersChanged(w, false);
  }

  /** True when `nick` was a member. */
  removeMember(w: ChatWindow, nick: string): boolean {
    const had = w.members.delete(this.fold(nick));
    if (had) this.membersChanged(w, false);
    return had;
  }

  /** Tells the page when `w` is the window shown. */
  membersChanged(w: ChatWindow | null, now: boolean): void {
    if (w === this.current) this.view.members(() => this.memberRows(), now);
  }

  /** The member list of the window shown, in order; null outside a channel. */
  memberRows(): MemberRow[] | null {
    const w = this.current;
    if (!w || w.type !== 'channel') return null;
    return sortMembers(w.members.values(), this.settings, this.fold).map((m) => ({
      nick: m.nick,
      text: symbolOf(m, this.settings) + m.nick,
      colour: colourOf(m.nick, this.fold),
      away: m.away ?? null,
    }));
  }

  /**
   * The WHOs the page asks itself, for who is away (presence.ts): the folded channel asked now
   * (its replies are not shown), and those to ask after it.
   */
  readonly awayWho = { asking: null as string | null, queue: [] as string[] };

  /** The server's CASEMAPPING: names fold its way from now on. */
  setCaseMapping(caseMapping: string): void {
    this.settings.caseMapping = caseMapping;
    this.fold = folderFor(caseMapping);
  }
}
