// The web client: a page, a script and a style that the server itself serves at `/` on the
// WebSocket port (src/transports/webServer.ts), so that a browser is all a user needs. No
// framework and no CDN: the script speaks IRC over the IRCv3 WebSocket transport
// (`text.ircv3.net`, one line per message) to the same origin, with the capabilities it uses
// (server-time for timestamps, echo-message, multi-prefix).
//
// Hostile text stays text: every piece of it is put in the page with textContent, never as
// markup, and the server sends a Content-Security-Policy that runs only this script (no inline
// script, no event-handler attributes), so `<img src=x onerror=...>` is shown, never loaded or
// run. Each nick and message is its own <bdi> (a bidi isolate): a U+202E RIGHT-TO-LEFT OVERRIDE
// in a message reorders that message only, never the time, the nick or the next line. IRC
// formatting codes are dropped and other control characters shown as their visible symbols
// (U+2400...). Long words wrap anywhere, so a 10 KB line cannot widen the page. What the user
// types is split into lines that fit IRC's 512 bytes, and a long paste is sent a few KiB at a
// time, paced by the server's PONGs (see pumpOutbox).
//
// Usable on a phone: below 720 px the channel list and the member list fold into panels opened
// from the header. The connection is kept: when it drops, or the server refuses it, the page
// says why (the server's `ERROR` text when there is one) and reconnects with exponential
// backoff (1 s, 2 s, 4 s... up to 30 s, with jitter), then takes its nick back and rejoins its
// channels.

export const webPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body data-view="login">
<form id="login" class="login" autocomplete="on">
  <h1>Chat</h1>
  <label for="login-nick">Nick</label>
  <input id="login-nick" name="nick" maxlength="30" autocomplete="nickname" autocapitalize="off" spellcheck="false" required>
  <label for="login-channel">Channels</label>
  <input id="login-channel" name="channels" value="#chat" autocapitalize="off" spellcheck="false">
  <label for="login-password">Server password <span class="muted">(if it has one)</span></label>
  <input id="login-password" name="password" type="password" autocomplete="current-password">
  <button type="submit">Connect</button>
  <p id="login-error" class="error" role="alert"></p>
  <noscript><p class="error">The chat needs JavaScript.</p></noscript>
</form>
<div id="chat" class="chat">
  <header class="bar">
    <button id="toggle-windows" class="toggle" type="button" aria-controls="windows" aria-expanded="false">Channels</button>
    <div class="title"><strong id="window-name"></strong> <span id="topic" class="topic"></span></div>
    <span id="me" class="me" title="Your nick"></span>
    <button id="toggle-members" class="toggle" type="button" aria-controls="members" aria-expanded="false">Members</button>
  </header>
  <div id="status" class="status" data-state="connecting" role="status"><span id="status-text">Connecting…</span> <button id="reconnect" type="button" hidden>Reconnect now</button></div>
  <nav id="windows" class="windows" aria-label="Channels and private messages">
    <ul id="window-list"></ul>
    <form id="join-form" class="join">
      <input id="join-name" placeholder="#channel" aria-label="Channel to join" autocapitalize="off" spellcheck="false">
      <button type="submit">Join</button>
    </form>
    <button id="list-channels" type="button" class="link">Browse channels</button>
  </nav>
  <main id="logs" class="logs"></main>
  <aside id="members" class="members" aria-label="Members">
    <h2>Members <span id="member-count" class="muted"></span></h2>
    <ul id="member-list"></ul>
  </aside>
  <form id="send-form" class="send">
    <input id="input" autocomplete="off" autocapitalize="sentences" aria-label="Message" placeholder="Message (or /help)">
    <button type="submit">Send</button>
  </form>
</div>
</body>
</html>
`;

export const webFavicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#0969da" d="M4 4h24a2 2 0 0 1 2 2v15a2 2 0 0 1-2 2H13l-7 6v-6H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/><path fill="#fff" d="M8 10h16v2H8zm0 5h11v2H8z"/></svg>
`;

export const webAppCss = `
:root {
  --fg: #1f2328; --muted: #656d76; --bg: #fff; --panel: #f6f8fa; --line: #d0d7de; --accent: #0969da;
  --bad-bg: #ffebe9; --bad-fg: #82071e; --good-bg: #dafbe1; --good-fg: #116329; --warn-bg: #fff8c5; --warn-fg: #7d4e00;
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --panel: #161b22; --line: #30363d; --accent: #4493f8;
    --bad-bg: #5d0f12; --bad-fg: #ffdcd7; --good-bg: #0f3d1f; --good-fg: #aff5b4; --warn-bg: #4b3900; --warn-fg: #f8e3a1; }
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
button, input { font: inherit; color: inherit; }
button { cursor: pointer; border: 1px solid var(--line); background: var(--panel); border-radius: 6px; padding: .35rem .7rem; }
input { border: 1px solid var(--line); background: var(--bg); border-radius: 6px; padding: .45rem .6rem; min-width: 0; }
.muted { color: var(--muted); font-weight: normal; }
.error { color: var(--bad-fg); }
body[data-view="login"] .chat, body[data-view="chat"] .login { display: none; }

.login { max-width: 22rem; margin: 12vh auto 0; padding: 1.5rem; display: grid; gap: .45rem; }
.login h1 { margin: 0 0 .6rem; font-size: 1.6rem; }
.login button { margin-top: .6rem; background: var(--accent); color: #fff; border-color: var(--accent); }
.login .error:empty { display: none; }

.chat { height: 100vh; height: 100dvh; display: grid; grid-template-columns: 13rem minmax(0, 1fr) 12rem;
  grid-template-rows: auto auto minmax(0, 1fr) auto;
  grid-template-areas: "bar bar bar" "status status status" "windows logs members" "windows send members"; }
.bar { grid-area: bar; display: flex; align-items: center; gap: .6rem; padding: .45rem .8rem; border-bottom: 1px solid var(--line); min-width: 0; }
.title { flex: 1; min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.topic { color: var(--muted); }
.me { color: var(--muted); font-size: .9rem; white-space: nowrap; max-width: 9rem; overflow: hidden; text-overflow: ellipsis; }
.toggle { display: none; }
.status { grid-area: status; padding: .3rem .8rem; font-size: .9rem; }
.status[data-state="connected"] { display: none; }
.status[data-state="connecting"], .status[data-state="registering"] { background: var(--warn-bg); color: var(--warn-fg); }
.status[data-state="disconnected"], .status[data-state="refused"] { background: var(--bad-bg); color: var(--bad-fg); }
.status button { font-size: .85rem; padding: .1rem .5rem; }

.windows { grid-area: windows; background: var(--panel); border-right: 1px solid var(--line); overflow-y: auto; padding: .5rem; }
.windows ul { list-style: none; margin: 0 0 .6rem; padding: 0; }
.windows li { display: flex; align-items: center; }
.windows li button.window { flex: 1; display: flex; justify-content: space-between; gap: .4rem; text-align: left; border: 0; background: none; padding: .35rem .5rem; min-width: 0; }
.windows li button.window .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.windows li.current button.window { background: var(--bg); font-weight: 600; }
.windows li[data-joined="false"] .name { color: var(--muted); font-style: italic; }
.windows li button.close { border: 0; background: none; color: var(--muted); padding: .2rem .4rem; }
.windows li[data-type="server"] button.close { visibility: hidden; }
.badge { background: var(--accent); color: #fff; border-radius: 1rem; font-size: .75rem; padding: 0 .45rem; }
.badge:empty { display: none; }
.join { display: flex; gap: .3rem; }
.join input { flex: 1; }
button.link { border: 0; background: none; color: var(--accent); padding: .4rem 0; }

.logs { grid-area: logs; position: relative; min-height: 0; }
.log { position: absolute; inset: 0; overflow-y: auto; padding: .4rem .8rem; }
.msg { display: flex; gap: .5rem; align-items: baseline; padding: .1rem 0; line-height: 1.35; }
.msg .time { color: var(--muted); font-size: .8rem; font-variant-numeric: tabular-nums; flex: none; }
.msg .nick { font-weight: 600; flex: none; max-width: 11rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.msg .text { flex: 1; min-width: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
.msg[data-kind="join"], .msg[data-kind="part"], .msg[data-kind="quit"], .msg[data-kind="nick"], .msg[data-kind="mode"],
.msg[data-kind="topic"], .msg[data-kind="kick"], .msg[data-kind="info"] { color: var(--muted); font-size: .92rem; }
.msg[data-kind="error"] .text { color: var(--bad-fg); }
.msg[data-kind="notice"] .nick::before { content: "-"; } .msg[data-kind="notice"] .nick::after { content: "-"; }
.msg[data-kind="action"] .text { font-style: italic; }
.msg.mine .nick { color: var(--muted); }
.msg button.channel { border: 0; background: none; color: var(--accent); padding: 0; }
.c0 { color: #cf222e; } .c1 { color: #1a7f37; } .c2 { color: #0969da; } .c3 { color: #8250df; }
.c4 { color: #bc4c00; } .c5 { color: #0550ae; } .c6 { color: #bf3989; } .c7 { color: #116329; }

.members { grid-area: members; background: var(--panel); border-left: 1px solid var(--line); overflow-y: auto; padding: .5rem .7rem; }
.members h2 { font-size: .95rem; margin: .2rem 0 .5rem; }
.members ul { list-style: none; margin: 0; padding: 0; }
.members li button { border: 0; background: none; padding: .15rem 0; text-align: left; width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
body[data-window="server"] .members li, body[data-window="query"] .members li { display: none; }

.send { grid-area: send; display: flex; gap: .4rem; padding: .5rem .8rem; border-top: 1px solid var(--line); }
.send input { flex: 1; }

@media (max-width: 720px) {
  .chat { grid-template-columns: minmax(0, 1fr); grid-template-areas: "bar" "status" "logs" "send"; }
  .toggle { display: inline-block; padding: .3rem .55rem; font-size: .85rem; }
  .windows, .members { position: fixed; top: 3rem; bottom: 0; width: min(18rem, 85vw); z-index: 2; display: none; box-shadow: 0 0 1rem rgba(0,0,0,.25); }
  .windows { left: 0; } .members { right: 0; }
  body.show-windows .windows, body.show-members .members { display: block; }
  .msg .nick { max-width: 7rem; }
  .msg .time { font-size: .72rem; }
}
`;

// The script. Written without template literals so that it can sit in this TypeScript string;
// String.raw keeps its backslash escapes (\x01, \u202E) for the browser to read.
export const webAppJs = String.raw`'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- IRC lines ---------------------------------------------------------------------------

  var tagEscapes = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };
  function parseLine(line) {
    var msg = { tags: {}, source: '', nick: '', command: '', params: [] };
    var i = 0;
    if (line.charAt(0) === '@') {
      var sp = line.indexOf(' ');
      if (sp === -1) return null;
      line.slice(1, sp).split(';').forEach(function (tag) {
        var eq = tag.indexOf('=');
        var key = eq === -1 ? tag : tag.slice(0, eq);
        var value = eq === -1 ? '' : tag.slice(eq + 1).replace(/\\(.?)/g, function (_, c) { return tagEscapes[c] !== undefined ? tagEscapes[c] : c; });
        msg.tags[key] = value;
      });
      i = sp + 1;
    }
    while (line.charAt(i) === ' ') i++;
    if (line.charAt(i) === ':') {
      var end = line.indexOf(' ', i);
      if (end === -1) return null;
      msg.source = line.slice(i + 1, end);
      msg.nick = msg.source.split('!')[0];
      i = end + 1;
    }
    while (line.charAt(i) === ' ') i++;
    var cmdEnd = line.indexOf(' ', i);
    msg.command = (cmdEnd === -1 ? line.slice(i) : line.slice(i, cmdEnd)).toUpperCase();
    i = cmdEnd === -1 ? line.length : cmdEnd;
    while (i < line.length) {
      while (line.charAt(i) === ' ') i++;
      if (i >= line.length) break;
      if (line.charAt(i) === ':') { msg.params.push(line.slice(i + 1)); break; }
      var pEnd = line.indexOf(' ', i);
      if (pEnd === -1) pEnd = line.length;
      msg.params.push(line.slice(i, pEnd));
      i = pEnd;
    }
    return msg.command ? msg : null;
  }

  function lineOf(command, params) {
    var out = command;
    for (var i = 0; i < params.length; i++) {
      var p = String(params[i]).replace(/[\r\n\0]/g, ' ');
      if (i === params.length - 1 && (p === '' || p.indexOf(' ') !== -1 || p.charAt(0) === ':')) out += ' :' + p;
      else out += ' ' + p;
    }
    return out;
  }

  // rfc1459 case mapping (the server's CASEMAPPING): Nick, NICK and nick are one nick.
  var caseMapping = 'rfc1459';
  function fold(s) {
    var lower = s.toLowerCase();
    if (caseMapping === 'ascii') return lower;
    return lower.replace(/[\[\]\\~]/g, function (c) { return { '[': '{', ']': '}', '\\': '|', '~': '^' }[c]; });
  }

  // IRC formatting (bold, colours...) is dropped; other control characters become visible.
  var formatting = /\x03(\d{1,2}(,\d{1,2})?)?|\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;
  function clean(text) {
    return text.replace(formatting, '').replace(/[\x00-\x1f\x7f]/g, function (c) {
      var code = c.charCodeAt(0);
      return String.fromCharCode(code === 0x7f ? 0x2421 : 0x2400 + code);
    });
  }

  var encoder = new TextEncoder();
  function bytes(s) { return encoder.encode(s).length; }

  // Splits text into pieces whose PRIVMSG, as the server relays it to others
  // (":nick!~user@host PRIVMSG target :piece"), fits the 512-byte line: the host is not known
  // here, so 64 bytes are kept for it. Cuts at a space when there is one near the end.
  function split(text, target, extra) {
    var overhead = bytes(':' + state.nick + '!~' + state.user + '@ PRIVMSG ' + target + ' :\r\n') + 64 + (extra || 0);
    var room = Math.max(64, 512 - overhead);
    var pieces = [];
    var chars = Array.from(text);
    var piece = '';
    var size = 0;
    var lastSpace = -1;
    for (var i = 0; i < chars.length; i++) {
      var c = chars[i];
      var n = bytes(c);
      if (size + n > room) {
        if (lastSpace > piece.length * 0.6) {
          pieces.push(piece.slice(0, lastSpace));
          piece = piece.slice(lastSpace + 1);
        } else {
          pieces.push(piece);
          piece = '';
        }
        size = bytes(piece);
        lastSpace = -1;
      }
      if (c === ' ') lastSpace = piece.length;
      piece += c;
      size += n;
    }
    if (piece.length > 0) pieces.push(piece);
    return pieces;
  }

  // ---- State -------------------------------------------------------------------------------

  var serverKey = ':server';
  var maxLines = 1000;
  var state = {
    ws: null,
    nick: '',
    wanted: '',
    user: 'web',
    password: '',
    opened: false,
    registered: false,
    quitting: false,
    fatal: null,
    serverError: null,
    attempt: 0,
    timer: null,
    tick: null,
    caps: {},
    capLs: [],
    network: 'Server',
    prefixModes: 'ov',
    prefixSymbols: '@+',
    chanModes: ['b', 'k', 'l', 'imnst'],
    chanTypes: '#&',
    windows: {},
    current: null,
    pendingShow: null,
    names: {}
  };

  function isChannel(name) { return name.length > 0 && state.chanTypes.indexOf(name.charAt(0)) !== -1; }
  function isMe(nick) { return fold(nick) === fold(state.nick); }

  function colourOf(nick) {
    var h = 0;
    var f = fold(nick);
    for (var i = 0; i < f.length; i++) h = (h * 31 + f.charCodeAt(i)) | 0;
    return 'c' + (Math.abs(h) % 8);
  }
  function hhmm(d) {
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  // ---- Windows: the server, channels, private messages --------------------------------------

  function windowKey(name, type) { return type === 'server' ? serverKey : fold(name); }

  function findWindow(name) { return state.windows[fold(name)] || null; }

  function openWindow(name, type) {
    var key = windowKey(name, type);
    var w = state.windows[key];
    if (w) return w;
    w = { key: key, name: name, type: type, joined: false, rejoin: type === 'channel', topic: '', members: {}, unread: 0 };
    w.log = el('div', 'log');
    w.log.dataset.key = key;
    w.log.setAttribute('role', 'log');
    w.log.hidden = true;
    w.item = el('li');
    w.item.dataset.key = key;
    w.item.dataset.type = type;
    w.item.dataset.joined = type === 'channel' ? 'false' : 'true';
    var button = el('button', 'window');
    button.type = 'button';
    w.label = el('bdi', 'name', type === 'server' ? state.network : name);
    w.badge = el('span', 'badge');
    button.append(w.label, w.badge);
    button.addEventListener('click', function () { show(w); closePanels(); });
    var close = el('button', 'close', '\u00d7');
    close.type = 'button';
    close.setAttribute('aria-label', 'Close ' + name);
    close.addEventListener('click', function () { closeWindow(w); });
    w.item.append(button, close);
    $('window-list').append(w.item);
    $('logs').append(w.log);
    state.windows[key] = w;
    if (!state.current) show(w);
    return w;
  }

  function closeWindow(w) {
    if (w.type === 'server') return;
    if (w.type === 'channel' && w.joined) {
      w.rejoin = false;
      send('PART', [w.name]);
      return; // our PART from the server removes it
    }
    removeWindow(w);
  }

  function removeWindow(w) {
    delete state.windows[w.key];
    w.item.remove();
    w.log.remove();
    if (state.current === w) {
      state.current = null;
      show(state.windows[serverKey] || null);
    }
  }

  function renameWindow(w, name) {
    delete state.windows[w.key];
    w.name = name;
    w.key = fold(name);
    w.log.dataset.key = w.key;
    w.item.dataset.key = w.key;
    w.label.textContent = name;
    state.windows[w.key] = w;
    if (state.current === w) showHeader();
  }

  function show(w) {
    if (!w) return;
    if (state.current) {
      state.current.log.hidden = true;
      state.current.item.classList.remove('current');
    }
    state.current = w;
    w.log.hidden = false;
    w.item.classList.add('current');
    w.unread = 0;
    w.badge.textContent = '';
    w.log.scrollTop = w.log.scrollHeight;
    document.body.dataset.window = w.type;
    showHeader();
    renderMembers();
    $('input').placeholder = w.type === 'server' ? '/join #channel, or /help' : 'Message ' + w.name;
  }

  function showHeader() {
    var w = state.current;
    if (!w) return;
    $('window-name').textContent = w.type === 'server' ? state.network : w.name;
    var topic = w.type === 'channel' ? clean(w.topic) : '';
    $('topic').textContent = topic;
    $('topic').title = topic;
    document.title = (w.type === 'server' ? state.network : w.name) + ' \u00b7 Chat';
  }

  function add(w, kind, nick, text, time, mine) {
    var row = el('div', 'msg' + (mine ? ' mine' : ''));
    row.dataset.kind = kind;
    var when = time ? new Date(time) : new Date();
    if (isNaN(when.getTime())) when = new Date();
    var stamp = el('time', 'time', hhmm(when));
    stamp.dateTime = when.toISOString();
    stamp.title = when.toLocaleString();
    row.append(stamp);
    if (nick) row.append(el('bdi', 'nick ' + colourOf(nick), kind === 'action' ? '* ' + nick : nick));
    var body = el('bdi', 'text');
    if (typeof text === 'string') body.textContent = clean(text);
    else body.append.apply(body, text);
    row.append(body);
    var log = w.log;
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(row);
    while (log.childElementCount > maxLines) log.firstElementChild.remove();
    if (w === state.current) {
      if (atBottom || mine) log.scrollTop = log.scrollHeight;
    } else if (kind === 'privmsg' || kind === 'action' || (kind === 'notice' && w.type !== 'server')) {
      w.unread++;
      w.badge.textContent = String(w.unread);
    }
    return row;
  }

  function info(w, text, kind) { add(w || serverWindow(), kind || 'info', '', text); }
  function serverWindow() { return openWindow(state.network, 'server'); }
  function here() { return state.current || serverWindow(); }

  // ---- Members -----------------------------------------------------------------------------

  function rank(member) {
    for (var i = 0; i < state.prefixModes.length; i++) if (member.modes.indexOf(state.prefixModes.charAt(i)) !== -1) return i;
    return state.prefixModes.length;
  }
  function symbolOf(member) {
    var r = rank(member);
    return r < state.prefixSymbols.length ? state.prefixSymbols.charAt(r) : '';
  }
  function addMember(w, nick, modes) { w.members[fold(nick)] = { nick: nick, modes: modes || '' }; membersChanged(w); }
  function removeMember(w, nick) {
    var had = !!w.members[fold(nick)];
    delete w.members[fold(nick)];
    if (had) membersChanged(w);
    return had;
  }

  var membersPending = false;
  function membersChanged(w) {
    if (w !== state.current || membersPending) return;
    membersPending = true;
    requestAnimationFrame(function () { membersPending = false; renderMembers(); });
  }
  function renderMembers() {
    var w = state.current;
    var list = $('member-list');
    list.textContent = '';
    if (!w || w.type !== 'channel') { $('member-count').textContent = ''; return; }
    var members = Object.keys(w.members).map(function (k) { return w.members[k]; });
    members.sort(function (a, b) { return rank(a) - rank(b) || (fold(a.nick) < fold(b.nick) ? -1 : 1); });
    var frag = document.createDocumentFragment();
    members.forEach(function (m) {
      var li = el('li');
      li.dataset.nick = m.nick;
      var b = el('button', colourOf(m.nick), symbolOf(m) + m.nick);
      b.type = 'button';
      b.title = 'Private message to ' + m.nick;
      b.addEventListener('click', function () { if (!isMe(m.nick)) { show(openWindow(m.nick, 'query')); closePanels(); } });
      li.append(b);
      frag.append(li);
    });
    list.append(frag);
    $('member-count').textContent = '(' + members.length + ')';
  }

  // ---- Connection --------------------------------------------------------------------------

  function setStatus(kind, text, canRetry) {
    $('status').dataset.state = kind;
    $('status-text').textContent = text;
    $('reconnect').hidden = !canRetry;
  }

  function sendLine(line) {
    if (state.ws && state.ws.readyState === 1) { state.ws.send(line); return true; }
    return false;
  }
  function send(command, params) { return sendLine(lineOf(command, params)); }

  function connect() {
    clearTimeout(state.timer);
    clearInterval(state.tick);
    state.timer = state.tick = null;
    state.opened = false;
    state.registered = false;
    state.serverError = null;
    state.quitting = false;
    state.caps = {};
    state.capLs = [];
    state.nick = state.wanted;
    setStatus('connecting', 'Connecting\u2026', false);
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
    var ws;
    try {
      ws = new WebSocket(url, ['text.ircv3.net']);
    } catch (err) {
      closed(1006);
      return;
    }
    state.ws = ws;
    ws.onopen = function () {
      state.opened = true;
      setStatus('registering', 'Connected, signing in as ' + state.wanted + '\u2026', false);
      send('CAP', ['LS', '302']);
      if (state.password) send('PASS', [state.password]);
      send('NICK', [state.wanted]);
      send('USER', [state.user, '0', '*', 'Web client']);
    };
    ws.onmessage = function (event) {
      if (typeof event.data !== 'string') return;
      var msg = parseLine(event.data);
      if (msg) handle(msg);
    };
    ws.onclose = function (event) {
      if (state.ws !== ws) return;
      state.ws = null;
      closed(event.code);
    };
    ws.onerror = function () { /* 'close' follows and says the rest */ };
  }

  function closed(code) {
    var wasRegistered = state.registered;
    state.registered = false;
    resetOutbox();
    Object.keys(state.windows).forEach(function (k) {
      var w = state.windows[k];
      if (w.type !== 'channel') return;
      if (w.joined) w.rejoin = true;
      w.joined = false;
      w.item.dataset.joined = 'false';
      w.members = {};
    });
    renderMembers();
    if (state.fatal) {
      document.body.dataset.view = 'login';
      $('login-error').textContent = state.fatal;
      state.fatal = null;
      return;
    }
    var why = state.serverError ? 'The server closed the connection: ' + state.serverError
      : !state.opened ? 'Could not connect to the chat server: it is down, unreachable, or refused the connection.'
      : code === 1009 ? 'The server closed the connection: a message was too big.'
      : 'The connection to the chat server was lost.';
    if (wasRegistered || state.opened) {
      Object.keys(state.windows).forEach(function (k) {
        var w = state.windows[k];
        if (w.type === 'server' || w.rejoin || w === state.current) info(w, 'Disconnected. ' + why, 'error');
      });
    }
    if (state.quitting) {
      setStatus('disconnected', 'Disconnected. ' + why, true);
      return;
    }
    var delay = Math.min(30000, 1000 * Math.pow(2, state.attempt));
    delay = Math.round(delay * (0.8 + Math.random() * 0.4));
    state.attempt++;
    var at = Date.now() + delay;
    var kind = state.opened ? 'disconnected' : 'refused';
    var render = function () {
      var left = Math.max(0, Math.ceil((at - Date.now()) / 1000));
      setStatus(kind, why + ' Reconnecting in ' + left + ' s.', true);
    };
    render();
    state.tick = setInterval(render, 1000);
    state.timer = setTimeout(connect, delay);
  }

  // ---- What the server says ----------------------------------------------------------------

  function handle(msg) {
    var p = msg.params;
    var time = msg.tags.time;
    var w;
    switch (msg.command) {
      case 'PING':
        send('PONG', [p[0] || '']);
        return;
      case 'PONG':
        if (awaitingPong !== null && p[p.length - 1] === awaitingPong) {
          awaitingPong = null;
          pumpOutbox();
        }
        return;
      case 'CAP':
        return handleCap(msg);
      case '001':
        state.nick = p[0];
        $('me').textContent = state.nick;
        state.registered = true;
        state.attempt = 0;
        setStatus('connected', 'Connected as ' + state.nick, false);
        info(serverWindow(), p[1] || 'Welcome');
        rejoin();
        return;
      case '005':
        p.slice(1, -1).forEach(isupport);
        return;
      case '432':
      case '433':
        if (!state.registered) {
          if (msg.command === '432') {
            state.fatal = 'The server refused the nick ' + (p[1] || state.wanted) + ': ' + (p[2] || 'erroneous nickname');
            state.quitting = true;
            if (state.ws) state.ws.close();
            return;
          }
          state.wanted = state.wanted.length < 12 ? state.wanted + '_' : state.wanted.slice(0, 8) + Math.floor(Math.random() * 1000);
          info(serverWindow(), 'That nick is taken; trying ' + state.wanted);
          send('NICK', [state.wanted]);
          return;
        }
        info(here(), (p[1] || '') + ': ' + (p[2] || 'nick unavailable'), 'error');
        return;
      case '464':
        state.fatal = 'The server password is wrong.';
        return;
      case 'ERROR':
        state.serverError = p[0] || 'closed';
        info(serverWindow(), p[0] || 'ERROR', 'error');
        return;
      case 'JOIN':
        return handleJoin(msg, time);
      case 'PART':
        w = findWindow(p[0] || '');
        if (!w) return;
        if (isMe(msg.nick)) { w.rejoin = false; removeWindow(w); return; }
        removeMember(w, msg.nick);
        add(w, 'part', '', msg.nick + ' left ' + w.name + (p[1] ? ' (' + p[1] + ')' : ''), time);
        return;
      case 'QUIT':
        Object.keys(state.windows).forEach(function (k) {
          var cw = state.windows[k];
          var left = cw.type === 'channel' ? removeMember(cw, msg.nick) : cw.type === 'query' && fold(cw.name) === fold(msg.nick);
          if (left) add(cw, 'quit', '', msg.nick + ' quit' + (p[0] ? ' (' + p[0] + ')' : ''), time);
        });
        return;
      case 'NICK':
        return handleNick(msg, time);
      case 'KICK':
        w = findWindow(p[0] || '');
        if (!w) return;
        removeMember(w, p[1] || '');
        add(w, 'kick', '', (p[1] || '') + ' was kicked by ' + msg.nick + (p[2] ? ' (' + p[2] + ')' : ''), time);
        if (isMe(p[1] || '')) {
          w.joined = false;
          w.rejoin = false;
          w.item.dataset.joined = 'false';
          w.members = {};
          renderMembers();
        }
        return;
      case 'TOPIC':
        w = findWindow(p[0] || '');
        if (!w) return;
        w.topic = p[1] || '';
        add(w, 'topic', '', msg.nick + (w.topic ? ' set the topic: ' + w.topic : ' cleared the topic'), time);
        if (w === state.current) showHeader();
        return;
      case '331':
      case '332':
        w = findWindow(p[1] || '');
        if (!w) return;
        w.topic = msg.command === '332' ? p[2] || '' : '';
        if (w.topic) add(w, 'topic', '', 'Topic: ' + w.topic, time);
        if (w === state.current) showHeader();
        return;
      case '353':
        var channel = fold(p[2] || '');
        var names = state.names[channel] || (state.names[channel] = []);
        (p[3] || '').split(' ').forEach(function (entry) {
          if (!entry) return;
          var modes = '';
          while (entry && state.prefixSymbols.indexOf(entry.charAt(0)) !== -1) {
            modes += state.prefixModes.charAt(state.prefixSymbols.indexOf(entry.charAt(0)));
            entry = entry.slice(1);
          }
          names.push({ nick: entry.split('!')[0], modes: modes });
        });
        return;
      case '366':
        w = findWindow(p[1] || '');
        var got = state.names[fold(p[1] || '')] || [];
        delete state.names[fold(p[1] || '')];
        if (!w) return;
        w.members = {};
        got.forEach(function (m) { w.members[fold(m.nick)] = m; });
        membersChanged(w);
        if (w === state.current) renderMembers();
        return;
      case 'MODE':
        return handleMode(msg, time);
      case 'PRIVMSG':
      case 'NOTICE':
        return handleMessage(msg, time);
      case '322':
        var name = p[1] || '';
        var join = el('button', 'channel', name);
        join.type = 'button';
        join.title = 'Join ' + name;
        join.addEventListener('click', function () { joinChannels(name, true); });
        add(serverWindow(), 'info', '', [join, document.createTextNode(' (' + (p[2] || '0') + ') ' + clean(p[3] || ''))]);
        return;
      case '323':
        info(serverWindow(), 'End of the channel list.');
        return;
      case '401':
      case '403':
      case '404':
      case '442':
      case '471':
      case '473':
      case '474':
      case '475':
      case '482':
        info(findWindow(p[1] || '') || here(), p.slice(1).join(': '), 'error');
        return;
      default:
        if (/^\d{3}$/.test(msg.command)) {
          var numeric = Number(msg.command);
          var text = p.slice(1).join(' ');
          if (numeric >= 400) info(here(), text, 'error');
          else if (numeric === 311 || numeric === 312 || numeric === 317 || numeric === 319 || numeric === 301 || numeric === 671) info(here(), text);
          else if (numeric !== 366 && numeric !== 333 && numeric !== 321) info(serverWindow(), text);
        }
    }
  }

  function isupport(token) {
    var eq = token.indexOf('=');
    var key = eq === -1 ? token : token.slice(0, eq);
    var value = eq === -1 ? '' : token.slice(eq + 1);
    if (key === 'PREFIX') {
      var m = /^\(([^)]*)\)(.*)$/.exec(value);
      if (m && m[1].length === m[2].length) { state.prefixModes = m[1]; state.prefixSymbols = m[2]; }
    } else if (key === 'CHANMODES') {
      state.chanModes = value.split(',');
    } else if (key === 'CHANTYPES') {
      state.chanTypes = value || '#';
    } else if (key === 'CASEMAPPING') {
      caseMapping = value;
    } else if (key === 'NETWORK' && value) {
      state.network = value;
      var sw = state.windows[serverKey];
      if (sw) { sw.name = value; sw.label.textContent = value; if (state.current === sw) showHeader(); }
    }
  }

  var wantedCaps = ['server-time', 'echo-message', 'multi-prefix'];
  function handleCap(msg) {
    var p = msg.params;
    var sub = (p[1] || '').toUpperCase();
    if (sub === 'LS') {
      var more = p[2] === '*';
      state.capLs = state.capLs.concat((more ? p[3] : p[2] || '').split(' '));
      if (more) return;
      var offered = state.capLs.map(function (c) { return c.split('=')[0]; });
      var want = wantedCaps.filter(function (c) { return offered.indexOf(c) !== -1; });
      if (want.length > 0) send('CAP', ['REQ', want.join(' ')]);
      else send('CAP', ['END']);
    } else if (sub === 'ACK') {
      (p[2] || '').split(' ').forEach(function (c) { if (c && c.charAt(0) !== '-') state.caps[c] = true; });
      if (!state.registered) send('CAP', ['END']);
    } else if (sub === 'NAK') {
      if (!state.registered) send('CAP', ['END']);
    }
  }

  function handleJoin(msg, time) {
    var name = msg.params[0] || '';
    if (isMe(msg.nick)) {
      var w = openWindow(name, 'channel');
      w.joined = true;
      w.rejoin = true;
      w.item.dataset.joined = 'true';
      w.members = {};
      addMember(w, msg.nick, '');
      add(w, 'join', '', 'You joined ' + name, time);
      if (state.pendingShow && fold(state.pendingShow) === fold(name)) { show(w); state.pendingShow = null; }
      return;
    }
    var cw = findWindow(name);
    if (!cw) return;
    addMember(cw, msg.nick, '');
    add(cw, 'join', '', msg.nick + ' joined ' + cw.name, time);
  }

  function handleNick(msg, time) {
    var from = msg.nick;
    var to = msg.params[0] || '';
    var mine = isMe(from);
    if (mine) {
      state.nick = to;
      state.wanted = to;
      $('me').textContent = to;
      setStatus('connected', 'Connected as ' + to, false);
    }
    Object.keys(state.windows).forEach(function (k) {
      var w = state.windows[k];
      if (w.type === 'channel') {
        var m = w.members[fold(from)];
        if (!m) return;
        delete w.members[fold(from)];
        m.nick = to;
        w.members[fold(to)] = m;
        membersChanged(w);
        add(w, 'nick', '', (mine ? 'You are' : from + ' is') + ' now known as ' + to, time);
      } else if (w.type === 'query' && fold(w.name) === fold(from)) {
        add(w, 'nick', '', from + ' is now known as ' + to, time);
        renameWindow(w, to);
      } else if (w.type === 'server' && mine) {
        add(w, 'nick', '', 'You are now known as ' + to, time);
      }
    });
  }

  function handleMode(msg, time) {
    var p = msg.params;
    var w = findWindow(p[0] || '');
    if (!w || w.type !== 'channel') return;
    var modes = p[1] || '';
    var args = p.slice(2);
    var sign = '+';
    var ai = 0;
    for (var i = 0; i < modes.length; i++) {
      var m = modes.charAt(i);
      if (m === '+' || m === '-') { sign = m; continue; }
      if (state.prefixModes.indexOf(m) !== -1) {
        var target = w.members[fold(args[ai++] || '')];
        if (!target) continue;
        target.modes = sign === '+' ? (target.modes.indexOf(m) === -1 ? target.modes + m : target.modes) : target.modes.split(m).join('');
        membersChanged(w);
      } else if (state.chanModes[0].indexOf(m) !== -1 || (state.chanModes[1] || '').indexOf(m) !== -1 || (sign === '+' && (state.chanModes[2] || '').indexOf(m) !== -1)) {
        ai++;
      }
    }
    add(w, 'mode', '', msg.nick + ' set mode ' + p.slice(1).join(' '), time);
  }

  function handleMessage(msg, time) {
    var p = msg.params;
    var target = p[0] || '';
    var text = p[1] || '';
    var kind = msg.command === 'NOTICE' ? 'notice' : 'privmsg';
    if (text.charAt(0) === '\x01') {
      var ctcp = text.replace(/^\x01|\x01$/g, '');
      if (ctcp.slice(0, 7).toUpperCase() !== 'ACTION ') return; // other CTCP requests are not shown
      text = ctcp.slice(7);
      kind = 'action';
    }
    var fromServer = !msg.nick || msg.nick.indexOf('.') !== -1 || msg.source.indexOf('!') === -1;
    var mine = !fromServer && isMe(msg.nick);
    var w;
    if (isChannel(target)) w = findWindow(target);
    else if (fromServer) w = serverWindow();
    else w = openWindow(mine ? target : msg.nick, 'query');
    if (!w) return;
    add(w, kind, fromServer ? msg.nick || state.network : msg.nick, text, time, mine);
  }

  // ---- What the user does ------------------------------------------------------------------

  function rejoin() {
    var names = [];
    Object.keys(state.windows).forEach(function (k) {
      var w = state.windows[k];
      if (w.type === 'channel' && w.rejoin) names.push(w.name);
    });
    if (names.length > 0) joinChannels(names.join(','), false);
  }

  // Joins now, or once registered; with focus, the window of the last one is shown when joined.
  function joinChannels(list, focus) {
    var names = list.split(',').map(function (n) { return n.trim(); }).filter(Boolean).map(function (n) { return isChannel(n) ? n : '#' + n; });
    if (names.length === 0) return;
    if (!state.registered) {
      names.forEach(function (n) { openWindow(n, 'channel').rejoin = true; });
      return;
    }
    if (focus) state.pendingShow = names[names.length - 1];
    send('JOIN', [names.join(',')]);
  }

  function say(w, text, action) {
    if (w.type === 'server') {
      info(w, 'This is the server window: join a channel (/join #name) or write to someone (/msg nick text) to talk.', 'error');
      return;
    }
    if (!state.registered) {
      info(w, 'Not connected: the message was not sent.', 'error');
      return;
    }
    split(text, w.name, action ? 9 : 0).forEach(function (piece) {
      outbox.push({ w: w, line: lineOf('PRIVMSG', [w.name, action ? '\x01ACTION ' + piece + '\x01' : piece]), piece: piece, action: action });
    });
    pumpOutbox();
  }

  // Messages go out in chunks of a few KiB. When more is waiting, a chunk ends with a PING and
  // the next goes once its PONG is back: the server runs a client's commands in order, so by then
  // it has taken the chunk off its queue. A long paste thus never piles up past the server's
  // receive queue (--recvq, 8 KiB by default, 'Excess Flood' past it), whatever its flood
  // control lets through and however the network bunches the messages.
  var outbox = [];
  var awaitingPong = null;
  var pongSeq = 0;
  var chunkBytes = 3072;
  function pumpOutbox() {
    if (awaitingPong !== null || !state.registered) return;
    var size = 0;
    while (outbox.length > 0 && (size === 0 || size + bytes(outbox[0].line) + 2 <= chunkBytes)) {
      var next = outbox.shift();
      size += bytes(next.line) + 2;
      sendLine(next.line);
      if (!state.caps['echo-message']) add(next.w, next.action ? 'action' : 'privmsg', state.nick, next.piece, null, true);
    }
    if (outbox.length > 0) {
      awaitingPong = 'chunk' + ++pongSeq;
      send('PING', [awaitingPong]);
    }
  }
  function resetOutbox() {
    if (outbox.length > 0) info(here(), outbox.length + ' message(s) were not sent.', 'error');
    outbox = [];
    awaitingPong = null;
  }

  var help = [
    '/join #channel[,#other] [key]: join channels',
    '/part [#channel] [reason]: leave the channel',
    '/nick newnick: change your nick',
    '/msg nick text: send a private message (/query nick opens the window)',
    '/me text: an action',
    '/topic [text]: show or set the topic',
    '/list: browse the channels',
    '/whois nick: who is that',
    '/quit [reason]: disconnect',
    '/quote RAW LINE: send a raw IRC line'
  ];

  function command(text) {
    if (text.charAt(0) !== '/' || text.charAt(1) === '/') {
      say(here(), text.charAt(0) === '/' ? text.slice(1) : text, false);
      return;
    }
    var sp = text.indexOf(' ');
    var name = (sp === -1 ? text.slice(1) : text.slice(1, sp)).toLowerCase();
    var rest = sp === -1 ? '' : text.slice(sp + 1).trim();
    var args = rest ? rest.split(/\s+/) : [];
    var w = here();
    switch (name) {
      case 'join': case 'j':
        if (!args[0]) return info(w, 'Usage: /join #channel', 'error');
        if (args[1]) { send('JOIN', [args[0], args[1]]); state.pendingShow = args[0].split(',').pop(); return; }
        return joinChannels(args[0], true);
      case 'part': case 'leave':
        var channel = args[0] && isChannel(args[0]) ? args[0] : w.type === 'channel' ? w.name : '';
        if (!channel) return info(w, 'Usage: /part #channel', 'error');
        var reason = args[0] && isChannel(args[0]) ? rest.slice(args[0].length).trim() : rest;
        var cw = findWindow(channel);
        if (cw) cw.rejoin = false;
        return void send('PART', reason ? [channel, reason] : [channel]);
      case 'nick':
        if (!args[0]) return info(w, 'Usage: /nick newnick', 'error');
        if (!state.registered) state.wanted = args[0];
        return void send('NICK', [args[0]]);
      case 'msg': case 'query':
        if (!args[0]) return info(w, 'Usage: /' + name + ' nick [text]', 'error');
        var target = isChannel(args[0]) ? findWindow(args[0]) : openWindow(args[0], 'query');
        if (!target) return info(w, 'You are not in ' + args[0], 'error');
        show(target);
        var body = rest.slice(args[0].length).trim();
        if (body) say(target, body, false);
        return;
      case 'me':
        return say(w, rest, true);
      case 'topic':
        if (w.type !== 'channel') return info(w, 'Use /topic in a channel', 'error');
        return void send('TOPIC', rest ? [w.name, rest] : [w.name]);
      case 'list':
        show(serverWindow());
        return void send('LIST', []);
      case 'whois':
        if (!args[0]) return info(w, 'Usage: /whois nick', 'error');
        return void send('WHOIS', [args[0]]);
      case 'close':
        return closeWindow(w);
      case 'quit':
        state.quitting = true;
        send('QUIT', [rest || 'Leaving']);
        return;
      case 'quote': case 'raw':
        return void sendLine(rest);
      case 'help':
        help.forEach(function (line) { info(w, line); });
        return;
      default:
        info(w, 'Unknown command /' + name + ': /help lists them.', 'error');
    }
  }

  function closePanels() {
    document.body.classList.remove('show-windows', 'show-members');
    $('toggle-windows').setAttribute('aria-expanded', 'false');
    $('toggle-members').setAttribute('aria-expanded', 'false');
  }
  function toggle(panel) {
    var cls = 'show-' + panel;
    var open = !document.body.classList.contains(cls);
    closePanels();
    if (open) document.body.classList.add(cls);
    $('toggle-' + panel).setAttribute('aria-expanded', String(open));
  }

  // ---- Wiring ------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', function () {
    var query = new URLSearchParams(location.search);
    if (query.get('nick')) $('login-nick').value = query.get('nick');
    if (query.get('channels')) $('login-channel').value = query.get('channels');

    $('login').addEventListener('submit', function (event) {
      event.preventDefault();
      var nick = $('login-nick').value.trim();
      if (!/^[^\s,*?!@#:&$][^\s,*?!@:]*$/.test(nick)) {
        $('login-error').textContent = 'A nick is one word, with no spaces or , * ? ! @ :';
        return;
      }
      $('login-error').textContent = '';
      state.wanted = nick;
      state.user = nick.replace(/[^A-Za-z0-9]/g, '').slice(0, 10) || 'web';
      state.password = $('login-password').value;
      document.body.dataset.view = 'chat';
      serverWindow();
      var channels = $('login-channel').value;
      joinChannels(channels, false);
      var names = channels.split(',').map(function (n) { return n.trim(); }).filter(Boolean);
      if (names.length > 0) {
        var first = findWindow(isChannel(names[0]) ? names[0] : '#' + names[0]);
        if (first) show(first);
      }
      state.attempt = 0;
      connect();
      $('input').focus();
    });

    $('send-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var input = $('input');
      var text = input.value;
      input.value = '';
      if (text.trim()) command(text);
    });

    $('join-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var name = $('join-name').value.trim();
      $('join-name').value = '';
      if (name) joinChannels(name, true);
      closePanels();
    });

    $('list-channels').addEventListener('click', function () { command('/list'); closePanels(); });
    $('reconnect').addEventListener('click', function () { state.attempt = 0; connect(); });
    $('toggle-windows').addEventListener('click', function () { toggle('windows'); });
    $('toggle-members').addEventListener('click', function () { toggle('members'); });
  });
})();
`;
