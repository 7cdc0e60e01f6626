// The web client (src/browser/webClient/) in Node, without a browser: a WebChat with a fake
// socket and a fake view that records what it was told. Server lines go in (hear), and what
// it sends and what it tells the page come out.
import { expect } from 'vitest';
import type { ChatView, ChatWindow, ConnectionState } from '../../../src/browser/webClient/chat.js';
import { WebChat } from '../../../src/browser/webClient/client.js';
import type { SentResult } from '../../../src/browser/webClient/echoes.js';

export interface Shown {
  /** The window's key now (a private window takes the new nick's). */
  window: string;
  kind: string;
  from: string;
  text: string;
  mine: boolean;
  channel?: string;
  msgid?: string;
  /** Shown as sending, with this label. */
  sending?: string;
  /** From the server's history: on top, or placed by its time. */
  older?: 'top' | 'time';
  /** Deleted (REDACT): `text` is the placeholder the page shows now. */
  deleted?: true;
  /** Ours, offering its delete button. */
  deletable?: true;
}

/** A client with a fake socket and a fake view that records what it was told. */
export function harness() {
  const sent: string[] = [];
  const logged: Array<{ w: ChatWindow; line: Omit<Shown, 'window'> }> = [];
  /** Our lines shown as sending, settled: how each ended. */
  const settled: Array<{ window: string; label: string; result: SentResult }> = [];
  /** The windows open, in the order they opened: record.windows is their keys now. */
  const open: ChatWindow[] = [];
  let shown: ChatWindow | null = null;
  const record = {
    socketOpen: true,
    hangUps: 0,
    windows: [] as string[],
    shown: '',
    header: ['', ''] as [string, string],
    members: null as string[] | null,
    /** The away members of the list shown, as `nick: message` ('' when not known). */
    away: [] as string[],
    /** What the page says of who is typing in the window shown. */
    typing: '',
    status: { state: '' as ConnectionState | '', text: '', canRetry: false },
    me: '',
    account: null as string | null,
    loginError: '',
    /** Unread counts the page was told of without a line (read elsewhere), by window. */
    unread: {} as Record<string, number>,
    /** Where the "new messages" line goes (ms), by window. */
    readMarkers: {} as Record<string, number>,
  };
  const view: ChatView = {
    windowOpened: (w) => {
      open.push(w);
      record.windows = open.map((o) => o.key);
    },
    windowClosed: (w) => {
      open.splice(open.indexOf(w), 1);
      record.windows = open.map((o) => o.key);
    },
    // A window renamed keeps its place in the list, under its new key.
    windowChanged: () => {
      record.windows = open.map((o) => o.key);
      if (shown) record.shown = shown.key;
    },
    windowShown: (w) => {
      shown = w;
      record.shown = w.key;
    },
    line: (w, l) => {
      const extra = {
        ...(l.channel ? { channel: l.channel } : {}), ...(l.msgid ? { msgid: l.msgid } : {}), ...(l.sending ? { sending: l.sending } : {}),
        ...(l.older ? { older: l.older } : {}),
      };
      logged.push({ w, line: { kind: l.kind, from: l.from?.text ?? '', text: l.text, mine: l.mine, ...extra } });
    },
    // As the page does: the lines with that msgid in that window change in place.
    redacted: (w, msgid, text) => {
      for (const { w: lw, line } of logged) {
        if (lw !== w || line.msgid !== msgid) continue;
        line.text = text;
        line.deleted = true;
        delete line.deletable;
      }
    },
    deletable: (w, msgid) => {
      for (const { w: lw, line } of logged) if (lw === w && line.msgid === msgid && !line.deleted) line.deletable = true;
    },
    settled: (w, label, result) => {
      settled.push({ window: w.key, label, result });
      // As the page does: the sending line takes its echo's msgid.
      const line = logged.find((l) => l.w === w && l.line.sending === label)?.line;
      if (line && result.sent && result.msgid !== undefined) line.msgid = result.msgid;
    },
    header: (title, topic) => {
      record.header = [title, topic];
    },
    typing: (text) => {
      record.typing = text;
    },
    members: (rows) => {
      const drawn = rows();
      record.members = drawn?.map((r) => r.text) ?? null;
      record.away = (drawn ?? []).filter((r) => r.away !== null).map((r) => `${r.nick}: ${r.away}`);
    },
    status: (state, text, canRetry) => {
      record.status = { state, text, canRetry };
    },
    me: (nick) => {
      record.me = nick;
    },
    account: (name) => {
      record.account = name;
    },
    loginFailed: (error) => {
      record.loginError = error;
    },
    unreadChanged: (w) => {
      record.unread[w.key] = w.unread;
    },
    readMarker: (w, at) => {
      record.readMarkers[w.key] = at;
    },
  };
  /** The page's clock: tests move it. */
  const clock = { now: Date.UTC(2026, 0, 1, 12, 0) };
  const chat = new WebChat({
    view,
    socket: {
      send: (line) => record.socketOpen && sent.push(line) > 0,
      close: () => void record.hangUps++,
    },
    now: () => clock.now,
    random: () => 0.5,
  });
  /** Server lines in, what the client sent in answer out. */
  const hear = (...received: string[]): string[] => {
    const before = sent.length;
    for (const line of received) chat.receive(line);
    return sent.slice(before);
  };
  const lines = (): Shown[] => logged.map(({ w, line }) => ({ window: w.key, ...line }));
  const texts = (window: string) => lines().filter((l) => l.window === window).map((l) => l.text);
  return { chat, sent, lines, record, hear, texts, clock, settled };
}

/** Logged in as `nick` with `channels`, connected and registered (no capabilities). */
export function registered(nick = 'alice', channels = '#room') {
  const h = harness();
  expect(h.chat.login({ nick, channels, password: '' })).toBeNull();
  h.chat.socketOpening();
  h.chat.socketOpened();
  h.hear(':irc CAP * LS :cap-notify', `:irc 001 ${nick} :Welcome to the network`);
  h.hear(`:irc 005 ${nick} CASEMAPPING=rfc1459 CHANTYPES=# NETWORK=testnet PREFIX=(ov)@+ :are supported by this server`);
  h.sent.length = 0;
  return h;
}
