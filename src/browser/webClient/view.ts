// The web client's DOM: draws what the ChatClient says changed (a ChatView), and turns clicks
// on windows, members and /list entries into calls back to it. Hostile text stays text: every
// piece of it goes in with textContent, never as markup, and each nick and message is its own
// <bdi> (a bidi isolate), so a U+202E in a message reorders that message only, never the time,
// the nick or the next line.

import type { ChatView, ChatWindow, ConnectionState, LogLine, MemberRow } from './chat.js';
import type { SentResult } from './echoes.js';
import { hhmm } from './text.js';

/** A log keeps this many lines; older ones are dropped as new ones come. */
const maxLines = 1000;
/** A log scrolled to within this many pixels of its end follows new lines. */
const followPx = 40;
/** A log scrolled to within this many pixels of its top asks for older lines. */
const olderPx = 24;

/** What clicks in the page ask of the client. */
export interface ViewActions {
  show(w: ChatWindow): void;
  close(w: ChatWindow): void;
  /** A private-message window with `nick`; false for ourselves (nothing opens). */
  query(nick: string): boolean;
  join(channel: string): void;
  /** The log of `w` was scrolled to its top: older lines, if the server has them. */
  older(w: ChatWindow): void;
  /** The delete button of our message `msgid` in `w` was clicked. */
  delete(w: ChatWindow, msgid: string): void;
}

interface WindowElements {
  log: HTMLElement;
  item: HTMLElement;
  label: HTMLElement;
  badge: HTMLElement;
  close: HTMLElement;
}

function setTime(stamp: HTMLTimeElement, time: Date): void {
  stamp.textContent = hhmm(time);
  stamp.dateTime = time.toISOString();
  stamp.title = time.toLocaleString();
}

/** The message box's hint: to whom the text goes. */
function setPlaceholder(w: ChatWindow): void {
  byId<HTMLInputElement>('input').placeholder = w.type === 'server' ? '/join #channel, or /help' : `Message ${w.name}`;
}

/** The rows of `log` with this msgid (compared as text: a msgid never goes into a selector). */
function rowsOf(log: HTMLElement, msgid: string): HTMLElement[] {
  return [...log.querySelectorAll<HTMLElement>(':scope > .msg')].filter((row) => row.dataset.msgid === msgid);
}

/** The first row of `log` later than `at` (ms, its data-at), or null when none is. */
function firstLaterThan(log: HTMLElement, at: number): Element | null {
  let row = log.firstElementChild;
  while (row !== null && Number((row as HTMLElement).dataset.at ?? 0) <= at) row = row.nextElementSibling;
  return row;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

function el(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(cls: string, text: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', cls, text) as HTMLButtonElement;
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** Opens one of the phone layout's side panels (`windows`, `members`), or closes it. */
export function togglePanel(panel: 'windows' | 'members'): void {
  const cls = `show-${panel}`;
  const open = !document.body.classList.contains(cls);
  closePanels();
  if (open) document.body.classList.add(cls);
  byId(`toggle-${panel}`).setAttribute('aria-expanded', String(open));
}

export function closePanels(): void {
  document.body.classList.remove('show-windows', 'show-members');
  byId('toggle-windows').setAttribute('aria-expanded', 'false');
  byId('toggle-members').setAttribute('aria-expanded', 'false');
}

export class PageView implements ChatView {
  private readonly elements = new Map<ChatWindow, WindowElements>();
  private shown: ChatWindow | null = null;
  private membersPending = false;
  /** Our rows shown as sending, by label, until settled. */
  private readonly sending = new Map<string, HTMLElement>();

  constructor(private readonly actions: ViewActions) {}

  private of(w: ChatWindow): WindowElements {
    const e = this.elements.get(w);
    if (!e) throw new Error(`no elements for window ${w.key}`);
    return e;
  }

  windowOpened(w: ChatWindow): void {
    const log = el('div', 'log');
    log.setAttribute('role', 'log');
    log.hidden = true;
    log.addEventListener('scroll', () => {
      if (log.scrollTop < olderPx && w === this.shown) this.actions.older(w);
    });
    const item = el('li');
    item.dataset.type = w.type;
    const open = button('window', '', () => {
      this.actions.show(w);
      closePanels();
    });
    const label = el('bdi', 'name');
    const badge = el('span', 'badge');
    open.append(label, badge);
    const close = button('close', '\u00d7', () => this.actions.close(w));
    item.append(open, close);
    byId('window-list').append(item);
    byId('logs').append(log);
    this.elements.set(w, { log, item, label, badge, close });
    this.windowChanged(w);
  }

  windowClosed(w: ChatWindow): void {
    const e = this.of(w);
    e.item.remove();
    e.log.remove();
    this.elements.delete(w);
    if (this.shown === w) this.shown = null;
  }

  windowChanged(w: ChatWindow): void {
    const e = this.of(w);
    e.log.dataset.key = w.key;
    e.item.dataset.key = w.key;
    e.item.dataset.joined = w.type === 'channel' ? String(w.joined) : 'true';
    e.label.textContent = w.name;
    e.close.setAttribute('aria-label', `Close ${w.name}`);
    // Renamed while shown (a channel renamed, a nick changed): the box says its new name.
    if (w === this.shown) setPlaceholder(w);
  }

  windowShown(w: ChatWindow, previous: ChatWindow | null): void {
    const before = previous && this.elements.get(previous);
    if (before) {
      before.log.hidden = true;
      before.item.classList.remove('current');
    }
    const e = this.of(w);
    this.shown = w;
    e.log.hidden = false;
    e.item.classList.add('current');
    e.badge.textContent = '';
    e.log.scrollTop = e.log.scrollHeight;
    document.body.dataset.window = w.type;
    setPlaceholder(w);
  }

  line(w: ChatWindow, line: LogLine): void {
    const row = el('div', line.mine ? 'msg mine' : 'msg');
    row.dataset.kind = line.kind;
    // The server's id for the message: what replies, reactions or history will address it by.
    // A data attribute, not an id: ids are the page's own (#input...), and this is text.
    if (line.msgid !== undefined) row.dataset.msgid = line.msgid;
    const stamp = el('time', 'time') as HTMLTimeElement;
    setTime(stamp, line.time);
    row.append(stamp);
    if (line.sending !== undefined) {
      row.classList.add('sending');
      this.sending.set(line.sending, row);
    }
    if (line.from) row.append(el('bdi', `nick ${line.from.colour}`, line.from.text));
    const body = el('bdi', 'text');
    if (line.channel !== undefined) {
      const channel = line.channel;
      const join = button('channel', channel, () => this.actions.join(channel));
      join.title = `Join ${channel}`;
      body.append(join, document.createTextNode(line.text));
    } else {
      body.textContent = line.text;
    }
    row.append(body);
    row.dataset.at = String(line.time.getTime());
    const { log } = this.of(w);
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < followPx;
    if (line.older) {
      // From the history: at the top, or before the first line that is later. What the reader
      // looks at stays where it is.
      const height = log.scrollHeight;
      const top = log.scrollTop;
      log.insertBefore(row, line.older === 'time' ? firstLaterThan(log, line.time.getTime()) : log.firstElementChild);
      if (w === this.shown && !atBottom) log.scrollTop = top + (log.scrollHeight - height);
      else if (w === this.shown) log.scrollTop = log.scrollHeight;
    } else {
      log.append(row);
      while (log.childElementCount > maxLines) log.firstElementChild?.remove();
    }
    if (w === this.shown) {
      if (!line.older && (atBottom || line.mine)) log.scrollTop = log.scrollHeight;
    } else {
      this.unreadChanged(w);
    }
  }

  unreadChanged(w: ChatWindow): void {
    this.of(w).badge.textContent = w.unread > 0 ? String(w.unread) : '';
  }

  /**
   * The "new messages" line: after the last line read, when lines follow it; one per log.
   * Placed again when the marker moves.
   */
  readMarker(w: ChatWindow, at: number): void {
    const { log } = this.of(w);
    log.querySelector(':scope > .unread-line')?.remove();
    const next = firstLaterThan(log, at);
    if (next === null) return;
    const divider = el('div', 'unread-line', 'new messages');
    divider.dataset.at = String(at);
    log.insertBefore(divider, next);
  }

  redacted(w: ChatWindow, msgid: string, text: string): void {
    for (const row of rowsOf(this.of(w).log, msgid)) {
      row.classList.add('deleted');
      row.querySelector(':scope > button.delete')?.remove();
      const body = row.querySelector(':scope > .text');
      if (body) body.textContent = text;
    }
  }

  deletable(w: ChatWindow, msgid: string): void {
    for (const row of rowsOf(this.of(w).log, msgid)) {
      if (row.classList.contains('deleted') || row.querySelector(':scope > button.delete')) continue;
      const del = button('delete', '\u00d7', () => this.actions.delete(w, msgid));
      del.title = 'Delete this message';
      del.setAttribute('aria-label', 'Delete this message');
      row.append(del);
    }
  }

  settled(_w: ChatWindow, label: string, result: SentResult): void {
    const row = this.sending.get(label);
    if (!row) return;
    this.sending.delete(label);
    row.classList.remove('sending');
    if (!result.sent) {
      row.classList.add('failed');
      row.title = `Not sent: ${result.why}`;
      return;
    }
    if (result.msgid !== undefined) row.dataset.msgid = result.msgid;
    const stamp = row.querySelector('time');
    if (result.time && stamp) setTime(stamp, result.time);
  }

  header(title: string, topic: string): void {
    byId('window-name').textContent = title;
    const t = byId('topic');
    t.textContent = topic;
    t.title = topic;
    document.title = `${title} \u00b7 Chat`;
  }

  typing(text: string): void {
    byId('typing').textContent = text;
  }

  members(rows: () => MemberRow[] | null, now: boolean): void {
    if (now) {
      this.drawMembers(rows());
      return;
    }
    // A burst of joins or mode changes redraws the list once, at the next frame.
    if (this.membersPending) return;
    this.membersPending = true;
    requestAnimationFrame(() => {
      this.membersPending = false;
      this.drawMembers(rows());
    });
  }

  private drawMembers(rows: MemberRow[] | null): void {
    const list = byId('member-list');
    list.textContent = '';
    if (!rows) {
      byId('member-count').textContent = '';
      return;
    }
    const frag = document.createDocumentFragment();
    for (const m of rows) {
      const li = el('li');
      li.dataset.nick = m.nick;
      const b = button(m.colour, m.text, () => {
        if (this.actions.query(m.nick)) closePanels();
      });
      b.title = `Private message to ${m.nick}`;
      if (m.away !== null) {
        // Away members are greyed; the reason, when known, is in the tooltip (text, never markup).
        li.classList.add('away');
        b.title = `${m.nick} is away${m.away ? `: ${m.away}` : ''}. Private message to ${m.nick}`;
      }
      li.append(b);
      frag.append(li);
    }
    list.append(frag);
    byId('member-count').textContent = `(${rows.length})`;
  }

  status(state: ConnectionState, text: string, canRetry: boolean): void {
    byId('status').dataset.state = state;
    byId('status-text').textContent = text;
    byId('reconnect').hidden = !canRetry;
  }

  me(nick: string): void {
    byId('me').textContent = nick;
  }

  account(name: string | null): void {
    const e = byId('account');
    e.textContent = name ?? '';
    e.title = name === null ? '' : `Logged in to the account ${name}`;
    e.hidden = name === null;
    // The account exists now: going back to the form (a refused nick...) must not create it again.
    if (name !== null) byId<HTMLInputElement>('login-create').checked = false;
  }

  loginFailed(error: string): void {
    document.body.dataset.view = 'login';
    byId('login-error').textContent = error;
  }
}
