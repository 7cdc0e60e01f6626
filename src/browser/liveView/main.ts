// The live view's script (index.html, app.css; bundled into app.js), served by the process
// itself (src/ops/inspect/inspectServer.ts; no CDN: it works on a plane). It draws the two
// diagrams, then follows the `/events` stream: counters, the states lit in the diagrams, the
// live and recently closed connections, and the history of the one clicked.
//
// Every piece of client-supplied text goes in with textContent, never innerHTML, and the server
// sends a Content-Security-Policy that allows only this script, so a reply like
// `<img src=x onerror=...>` is shown as text and runs nothing. The only markup inserted as HTML
// is the two SVG diagrams, which the process renders from the machines.

import {
  clockTime,
  countIn,
  duration,
  isIn,
  moreNote,
  sessionTitle,
  type ConnectionDetail,
  type ConnectionRow,
  type LiveView,
} from './format.js';

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

let selected: number | null = null;
let lastView: LiveView | null = null;
/** The page's clock when lastView came: the server pushes only when something changed. */
let lastViewAt = 0;

function text(el: Element, value: string | number | null | undefined): void {
  el.textContent = value == null ? '' : String(value);
}

function cell(tr: HTMLTableRowElement, value: string | number | null, cls?: string): void {
  const td = document.createElement('td');
  text(td, value);
  if (cls) td.className = cls;
  // A cut cell (an event name, a reply) shows the whole of it on hover.
  if (cls === 'event' || cls === 'reply') td.title = td.textContent ?? '';
  tr.appendChild(td);
}

async function loadDiagram(name: string): Promise<void> {
  const svg = await (await fetch(`/diagrams/${name}.svg`)).text();
  // Our own SVG, rendered by the process from the machine definitions.
  byId(`diagram-${name}`).innerHTML = svg;
}

function highlightServer(path: string): void {
  byId('diagram-server').querySelectorAll('.state').forEach((g) => {
    g.classList.toggle('active', isIn(path, g.getAttribute('data-state') ?? ''));
  });
}

function showCounts(counts: Record<string, number>): void {
  const root = byId('diagram-connection');
  root.querySelectorAll('.state').forEach((g) => {
    g.classList.toggle('hot', countIn(counts, g.getAttribute('data-state') ?? '') > 0);
  });
  root.querySelectorAll('[data-count-for]').forEach((t) => {
    const n = counts[t.getAttribute('data-count-for') ?? ''] ?? 0;
    text(t, n > 0 ? String(n) : '');
  });
}

type RowRenderer = (tr: HTMLTableRowElement, row: ConnectionRow) => void;

function fillRows(table: string, rows: ConnectionRow[], render: RowRenderer): void {
  const frag = document.createDocumentFragment();
  for (const row of rows) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-id', String(row.id));
    if (row.id === selected) tr.className = 'selected';
    render(tr, row);
    tr.addEventListener('click', () => select(row.id));
    frag.appendChild(tr);
  }
  byId<HTMLTableElement>(table).tBodies[0]!.replaceChildren(frag);
}

function render(view: LiveView): void {
  lastView = view;
  text(byId('server-state'), view.server.state);
  text(byId('server-address'), view.server.address || '–');
  text(byId('c-live'), view.counters.live);
  text(byId('c-accepted'), view.counters.accepted);
  text(byId('c-closed'), view.counters.closed);
  text(byId('c-turned-away'), view.counters.turnedAway);
  text(byId('c-errors'), view.counters.errors);
  if (view.chat) {
    document.querySelectorAll<HTMLElement>('.counters .chat').forEach((el) => {
      el.hidden = false;
    });
    text(byId('c-users'), view.chat.users);
    text(byId('c-channels'), view.chat.channels);
    text(byId('c-mps'), view.chat.messagesPerSecond);
  }
  text(byId('session-title'), sessionTitle(view));
  highlightServer(view.server.state);
  showCounts(view.statesCount);
  text(byId('live-more'), moreNote(view));
  fillRows('live-table', view.live, (tr, r) => {
    cell(tr, `#${r.id}`, 'num');
    cell(tr, r.remote);
    cell(tr, r.state, 'state');
    cell(tr, duration(view.now - r.openedAt), 'num');
    // The age goes on counting between pushes (tick() below), from the server's clock.
    tr.lastElementChild!.setAttribute('data-opened-at', String(r.openedAt));
    cell(tr, r.lastEvent, 'event');
    cell(tr, r.reply, 'reply');
  });
  fillRows('recent-table', view.recent, (tr, r) => {
    cell(tr, `#${r.id}`, 'num');
    cell(tr, r.remote);
    cell(tr, r.closeReason, 'reason');
    cell(tr, duration((r.closedAt || view.now) - r.openedAt), 'num');
    cell(tr, r.lastEvent, 'event');
    cell(tr, r.reply, 'reply');
  });
  if (selected !== null) void loadDetail(selected);
}

function select(id: number): void {
  selected = id;
  if (lastView) render(lastView);
}

async function loadDetail(id: number): Promise<void> {
  const r = await fetch(`/api/connections/${id}`);
  const d = r.ok ? ((await r.json()) as ConnectionDetail) : null;
  if (id !== selected) return;
  const tbody = byId<HTMLTableElement>('detail-table').tBodies[0]!;
  if (!d) {
    text(byId('detail-title'), `#${id} (no longer remembered)`);
    tbody.replaceChildren();
    return;
  }
  text(byId('detail-title'), `#${d.row.id} ${d.row.remote} - ${d.row.state}`);
  const start = d.history[0]?.at ?? 0;
  const frag = document.createDocumentFragment();
  for (const h of d.history) {
    const tr = document.createElement('tr');
    cell(tr, clockTime(h.at));
    cell(tr, String(h.at - start), 'num');
    cell(tr, h.event);
    cell(tr, h.state);
    frag.appendChild(tr);
  }
  tbody.replaceChildren(frag);
}

function connect(): void {
  const source = new EventSource('/events');
  const status = byId('status');
  source.addEventListener('open', () => {
    status.setAttribute('data-connected', 'true');
    text(status, 'live');
  });
  source.addEventListener('error', () => {
    status.setAttribute('data-connected', 'false');
    text(status, 'reconnecting…');
  });
  source.addEventListener('view', (e) => {
    lastViewAt = performance.now();
    render(JSON.parse((e as MessageEvent<string>).data) as LiveView);
  });
}

/** Once a second: the live connections' ages as of now, not as of the last push. */
function tick(): void {
  if (!lastView) return;
  const now = lastView.now + (performance.now() - lastViewAt);
  document.querySelectorAll('#live-table [data-opened-at]').forEach((td) => {
    text(td, duration(now - Number(td.getAttribute('data-opened-at'))));
  });
}
setInterval(tick, 1000);

Promise.all([loadDiagram('server'), loadDiagram('connection')]).then(connect, connect);
