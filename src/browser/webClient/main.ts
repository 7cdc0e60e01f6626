// The web client: the page (index.html, app.css, favicon.svg) and this script, bundled into
// app.js, that the server itself serves at `/` on the WebSocket port
// (src/transports/webServer.ts), so that a browser is all a user needs. No framework and no
// CDN: the script speaks IRC over the IRCv3 WebSocket transport (`text.ircv3.net`, one line
// per message) to the same origin, with the capabilities it uses (incoming.ts's wantedCaps),
// and reads and writes lines with the server's own wire code.
//
// Layout: chat.ts holds the state and decides (incoming.ts for what the server says,
// commands.ts for what the user types, account.ts for logging in, presence.ts for who is away
// and who is typing, history.ts for the server's history and read markers, redaction.ts for
// deleted messages); irc.ts, server.ts, text.ts, typing.ts, msgids.ts, outbox.ts and
// backoff.ts are its pure helpers; view.ts draws; this file owns the WebSocket and the timers,
// and wires the forms. Only view.ts and this file touch the DOM.
//
// The server sends a Content-Security-Policy that runs only this script (no inline script, no
// event-handler attributes), so `<img src=x onerror=...>` in a message is shown, never loaded
// or run. What the user types is split into lines that fit IRC's 512 bytes, and a long paste
// is sent a few KiB at a time, paced by the server's PONGs (outbox.ts). Usable on a phone:
// below 720 px the channel list and the member list fold into panels opened from the header.
// The connection is kept: when it drops, or the server refuses it, the page says why (the
// server's `ERROR` text when there is one) and reconnects with exponential backoff (1 s, 2 s,
// 4 s... up to 30 s, with jitter), then takes its nick back and rejoins its channels.
// With a password the page logs in to the nick's account (SASL PLAIN) before it is in, or
// creates the account when asked (account.ts); it keeps the password only until then, so a
// reconnect after a drop is not logged in (the page says so: /login <password>).

import { countdownText } from './backoff.js';
import type { ChatClient, ChatSocket } from './chat.js';
import { fetchOlder, markRead, readTick } from './history.js';
import { typingInput, typingTick } from './presence.js';
import { deleteOwn } from './redaction.js';
import { WebChat } from './client.js';
import { byId, closePanels, PageView, togglePanel } from './view.js';

function onSubmit(id: string, handler: () => void): void {
  byId<HTMLFormElement>(id).addEventListener('submit', (event) => {
    event.preventDefault();
    handler();
  });
}

let ws: WebSocket | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let countdown: ReturnType<typeof setInterval> | undefined;

const socket: ChatSocket = {
  send(line) {
    if (ws === null || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(line);
    return true;
  },
  close() {
    ws?.close();
  },
};

const view: PageView = new PageView({
  show: (w) => chat.show(w),
  close: (w) => chat.closeWindow(w),
  query: (nick) => chat.openQuery(nick),
  join: (channel) => chat.joinChannels(channel, true),
  older: (w) => fetchOlder(chat, w),
  // Deleting cannot be undone: asked first.
  delete: (w, msgid) => {
    if (window.confirm('Delete this message for everyone?')) deleteOwn(chat, w, '', msgid);
  },
});
const chat: ChatClient = new WebChat({ view, socket });

function connect(): void {
  clearTimeout(retryTimer);
  clearInterval(countdown);
  chat.socketOpening();
  const url = `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/`;
  let next: WebSocket;
  try {
    next = new WebSocket(url, ['text.ircv3.net']);
  } catch {
    closed(1006);
    return;
  }
  ws = next;
  next.addEventListener('open', () => chat.socketOpened());
  next.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (typeof event.data === 'string') chat.receive(event.data);
  });
  next.addEventListener('close', (event) => {
    // A socket replaced by "Reconnect now" has nothing more to say.
    if (ws !== next) return;
    ws = null;
    closed(event.code);
  });
  // 'error' is always followed by 'close', which says the rest.
}

/** Says why the connection is gone and, unless that was the end, counts down to the retry. */
function closed(code: number): void {
  const retry = chat.socketClosed(code);
  if (!retry) return;
  const at = Date.now() + retry.delayMs;
  const render = (): void => view.status(retry.state, countdownText(retry.why, at - Date.now()), true);
  render();
  countdown = setInterval(render, 1000);
  retryTimer = setTimeout(connect, retry.delayMs);
}

document.addEventListener('DOMContentLoaded', () => {
  const nick = byId<HTMLInputElement>('login-nick');
  const channels = byId<HTMLInputElement>('login-channel');
  const query = new URLSearchParams(location.search);
  nick.value = query.get('nick') || nick.value;
  channels.value = query.get('channels') || channels.value;

  const password = byId<HTMLInputElement>('login-password');
  const create = byId<HTMLInputElement>('login-create');
  // A password manager offers a new password for a new account, the saved one otherwise.
  create.addEventListener('change', () => {
    password.autocomplete = create.checked ? 'new-password' : 'current-password';
  });

  onSubmit('login', () => {
    const error = chat.login({ nick: nick.value, channels: channels.value, password: password.value, createAccount: create.checked });
    byId('login-error').textContent = error ?? '';
    if (error !== null) return;
    // The client has it until it logs in; the page keeps it nowhere (and never in storage).
    password.value = '';
    document.body.dataset.view = 'chat';
    connect();
    byId('input').focus();
  });

  onSubmit('send-form', () => {
    const input = byId<HTMLInputElement>('input');
    const text = input.value;
    input.value = '';
    chat.input(text);
  });
  // Typing notifications: each change of the box, and a tick for pauses and expiries.
  byId<HTMLInputElement>('input').addEventListener('input', (event) => typingInput(chat, (event.target as HTMLInputElement).value));
  setInterval(() => {
    typingTick(chat);
    readTick(chat);
  }, 1_000);
  // Read markers: what a hidden page shows is not read; coming back into view reads it.
  document.addEventListener('visibilitychange', () => {
    chat.visible = document.visibilityState === 'visible';
    if (chat.visible && chat.current) markRead(chat, chat.current, true);
  });

  onSubmit('join-form', () => {
    const input = byId<HTMLInputElement>('join-name');
    const name = input.value.trim();
    input.value = '';
    if (name) chat.joinChannels(name, true);
    closePanels();
  });

  byId('list-channels').addEventListener('click', () => {
    chat.input('/list');
    closePanels();
  });
  byId('reconnect').addEventListener('click', () => {
    chat.attempt = 0;
    connect();
  });
  byId('toggle-windows').addEventListener('click', () => togglePanel('windows'));
  byId('toggle-members').addEventListener('click', () => togglePanel('members'));
});
