// The live view's page, script and style, served by the process itself (no CDN: it works on a
// plane). The script builds every piece of client-supplied text with textContent, never
// innerHTML, and the server sends a Content-Security-Policy that allows only its own script,
// so a reply like `<img src=x onerror=...>` is shown as text and runs nothing. The only markup
// inserted as HTML is the two SVG diagrams, which the process renders from the machines.

export const pageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>xstate-tcp-chat: live statecharts</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>xstate-tcp-chat <span class="muted">live statecharts</span></h1>
  <div id="status" class="status" data-connected="false">connecting…</div>
</header>
<section class="counters">
  <div><span class="label">server</span><span id="server-state" class="value">–</span></div>
  <div><span class="label">address</span><span id="server-address" class="value">–</span></div>
  <div><span class="label">connections now</span><span id="c-live" class="value">0</span></div>
  <div><span class="label">accepted</span><span id="c-accepted" class="value">0</span></div>
  <div><span class="label">closed</span><span id="c-closed" class="value">0</span></div>
  <div><span class="label">turned away</span><span id="c-turned-away" class="value">0</span></div>
  <div><span class="label">errors</span><span id="c-errors" class="value">0</span></div>
  <div class="chat" hidden><span class="label">users</span><span id="c-users" class="value">0</span></div>
  <div class="chat" hidden><span class="label">channels</span><span id="c-channels" class="value">0</span></div>
  <div class="chat" hidden><span class="label">messages/s</span><span id="c-mps" class="value">0</span></div>
</section>
<section class="diagrams">
  <figure><figcaption>Server machine</figcaption><div id="diagram-server" class="diagram"></div></figure>
  <figure><figcaption><span id="session-title">Connection machine</span> <span class="muted">(live connections per state)</span></figcaption><div id="diagram-connection" class="diagram"></div></figure>
</section>
<section class="tables">
  <div>
    <h2>Live connections <span id="live-more" class="muted"></span></h2>
    <table id="live-table"><thead><tr><th>id</th><th>address</th><th>state</th><th>age</th><th>last event</th><th>reply</th></tr></thead><tbody></tbody></table>
  </div>
  <div>
    <h2>Recently closed</h2>
    <table id="recent-table"><thead><tr><th>id</th><th>address</th><th>closed because</th><th>lasted</th><th>last event</th><th>reply</th></tr></thead><tbody></tbody></table>
  </div>
  <div>
    <h2>Connection <span id="detail-title" class="muted">(click a row)</span></h2>
    <table id="detail-table"><thead><tr><th>time</th><th>+ms</th><th>event</th><th>state</th></tr></thead><tbody></tbody></table>
  </div>
</section>
</body>
</html>
`;

export const appCss = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
body { margin: 0 1.2rem 2rem; }
header { display: flex; align-items: baseline; gap: 1rem; }
h1 { font-size: 1.3rem; margin: .8rem 0; }
h2 { font-size: 1rem; margin: .8rem 0 .4rem; }
.muted { color: #6e7781; font-weight: normal; font-size: .9em; }
.status { font-size: .85rem; padding: .1rem .5rem; border-radius: 1rem; background: #ffebe9; color: #82071e; }
.status[data-connected="true"] { background: #dafbe1; color: #116329; }
.counters { display: flex; flex-wrap: wrap; gap: .6rem; }
.counters > div { border: 1px solid #d0d7de; border-radius: 6px; padding: .3rem .7rem; min-width: 7rem; }
.counters .label { display: block; font-size: .75rem; color: #6e7781; }
.counters .value { font-size: 1.15rem; font-variant-numeric: tabular-nums; }
.diagrams { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; margin-top: 1rem; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
.diagram svg { width: 100%; height: auto; max-height: 70vh; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
td.reply { max-width: 18rem; overflow: hidden; text-overflow: ellipsis; }
tbody tr { cursor: pointer; }
tbody tr:hover, tbody tr.selected { background: #ddf4ff; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
`;

export const appJs = `
'use strict';
(function () {
  var byId = function (id) { return document.getElementById(id); };
  var selected = null;
  var lastView = null;

  function text(el, value) { el.textContent = value == null ? '' : String(value); }
  function cell(tr, value, cls) {
    var td = document.createElement('td');
    text(td, value);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function ms(n) {
    if (n < 1000) return Math.round(n) + ' ms';
    if (n < 60000) return (n / 1000).toFixed(1) + ' s';
    return Math.floor(n / 60000) + ' min ' + Math.round((n % 60000) / 1000) + ' s';
  }

  function loadDiagram(name) {
    return fetch('/diagrams/' + name + '.svg').then(function (r) { return r.text(); }).then(function (svg) {
      // Our own SVG, rendered by the process from the machine definitions.
      byId('diagram-' + name).innerHTML = svg;
    });
  }

  function highlightServer(statePath) {
    var root = byId('diagram-server');
    root.querySelectorAll('.state').forEach(function (g) {
      var s = g.getAttribute('data-state');
      var on = statePath === s || statePath.indexOf(s + '.') === 0;
      g.classList.toggle('active', on);
    });
  }

  function showCounts(counts) {
    var root = byId('diagram-connection');
    root.querySelectorAll('.state').forEach(function (g) {
      var s = g.getAttribute('data-state');
      var n = 0;
      Object.keys(counts).forEach(function (k) { if (k === s || k.indexOf(s + '.') === 0) n += counts[k]; });
      g.classList.toggle('hot', n > 0);
    });
    root.querySelectorAll('[data-count-for]').forEach(function (t) {
      var n = counts[t.getAttribute('data-count-for')] || 0;
      text(t, n > 0 ? String(n) : '');
    });
  }

  function fillRows(tbody, rows, render) {
    var frag = document.createDocumentFragment();
    rows.forEach(function (row) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-id', String(row.id));
      if (row.id === selected) tr.className = 'selected';
      render(tr, row);
      tr.addEventListener('click', function () { select(row.id); });
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
  }

  function render(view) {
    lastView = view;
    text(byId('server-state'), view.server.state);
    text(byId('server-address'), view.server.address || '–');
    text(byId('c-live'), view.counters.live);
    text(byId('c-accepted'), view.counters.accepted);
    text(byId('c-closed'), view.counters.closed);
    text(byId('c-turned-away'), view.counters.turnedAway);
    text(byId('c-errors'), view.counters.errors);
    if (view.chat) {
      document.querySelectorAll('.counters .chat').forEach(function (el) { el.hidden = false; });
      text(byId('c-users'), view.chat.users);
      text(byId('c-channels'), view.chat.channels);
      text(byId('c-mps'), view.chat.messagesPerSecond);
    }
    text(byId('session-title'), view.sessionMachine === 'ircSession' ? 'IRC session machine' : 'Connection machine');
    highlightServer(view.server.state);
    showCounts(view.statesCount);
    var more = view.counters.live - view.live.length;
    text(byId('live-more'), more > 0 ? '(newest ' + view.live.length + ' shown, ' + more + ' more)' : '');
    fillRows(byId('live-table').tBodies[0], view.live, function (tr, r) {
      cell(tr, '#' + r.id, 'num');
      cell(tr, r.remote);
      cell(tr, r.state, 'state');
      cell(tr, ms(view.now - r.openedAt), 'num');
      cell(tr, r.lastEvent);
      cell(tr, r.reply, 'reply');
    });
    fillRows(byId('recent-table').tBodies[0], view.recent, function (tr, r) {
      cell(tr, '#' + r.id, 'num');
      cell(tr, r.remote);
      cell(tr, r.closeReason, 'reason');
      cell(tr, ms((r.closedAt || view.now) - r.openedAt), 'num');
      cell(tr, r.lastEvent);
      cell(tr, r.reply, 'reply');
    });
    if (selected !== null) loadDetail(selected);
  }

  function select(id) {
    selected = id;
    if (lastView) render(lastView);
  }

  function loadDetail(id) {
    fetch('/api/connections/' + id).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
      if (id !== selected) return;
      var tbody = byId('detail-table').tBodies[0];
      if (!d) { text(byId('detail-title'), '#' + id + ' (no longer remembered)'); tbody.replaceChildren(); return; }
      text(byId('detail-title'), '#' + d.row.id + ' ' + d.row.remote + ' - ' + d.row.state);
      var start = d.history.length ? d.history[0].at : 0;
      var frag = document.createDocumentFragment();
      d.history.forEach(function (h) {
        var tr = document.createElement('tr');
        cell(tr, new Date(h.at).toISOString().slice(11, 23));
        cell(tr, String(h.at - start), 'num');
        cell(tr, h.event);
        cell(tr, h.state);
        frag.appendChild(tr);
      });
      tbody.replaceChildren(frag);
    });
  }

  function connect() {
    var source = new EventSource('/events');
    source.addEventListener('open', function () { byId('status').setAttribute('data-connected', 'true'); text(byId('status'), 'live'); });
    source.addEventListener('error', function () { byId('status').setAttribute('data-connected', 'false'); text(byId('status'), 'reconnecting…'); });
    source.addEventListener('view', function (e) { render(JSON.parse(e.data)); });
  }

  Promise.all([loadDiagram('server'), loadDiagram('connection')]).then(connect, connect);
})();
`;
