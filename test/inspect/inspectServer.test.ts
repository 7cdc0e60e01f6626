// The live view's HTTP side on real sockets: the page and its security headers, the SSE stream
// following a real TCP client through the connection machine, one connection's history, and
// throttled pushes under a burst.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startInspectServer, type InspectServer } from '../../src/ops/inspect/inspectServer.js';
import { type ServerHandle } from '../../src/core/listener.js';
import { defaultConfig } from '../../src/core/config.js';
import { Monitor, type MonitorView } from '../../src/ops/inspect/monitor.js';
import { connect, converse, waitFor, serve } from '../helpers.js';

let page: InspectServer | undefined;
let server: ServerHandle | undefined;
afterEach(async () => {
  server?.shutdown();
  await server?.done;
  await page?.close();
  page = undefined;
  server = undefined;
});

async function start(pushIntervalMs = 100) {
  const monitor = new Monitor();
  page = await startInspectServer({
    host: '127.0.0.1',
    port: 0,
    monitor,
    diagrams: { server: '<svg id="s"></svg>', connection: '<svg id="c"></svg>' },
    pushIntervalMs,
  });
  server = serve({ ...defaultConfig, host: '127.0.0.1', port: 0 }, { inspect: monitor.inspect });
  const { port } = await server.listening;
  return { monitor, url: page.url, port };
}

/** Reads the SSE stream, parsing each `view` event. */
function subscribe(url: string) {
  const views: MonitorView[] = [];
  const req = http.get(`${url}events`, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message.split('\n').find((l) => l.startsWith('data: '));
        if (message.includes('event: view') && data) views.push(JSON.parse(data.slice(6)) as MonitorView);
      }
    });
  });
  req.on('error', () => {});
  return { views, close: () => req.destroy() };
}

describe('inspection page server', () => {
  it('serves the page, its script and the diagrams, with a script-only-from-self policy', async () => {
    const { url } = await start();
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<script src="/app.js" defer></script>');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)/); // nothing from the internet
    expect((await fetch(`${url}app.js`)).headers.get('content-type')).toContain('javascript');
    expect(await (await fetch(`${url}diagrams/server.svg`)).text()).toBe('<svg id="s"></svg>');
    expect((await fetch(`${url}nope`)).status).toBe(404);
  });

  it('streams a real client through the connection machine, live', async () => {
    const { url, port } = await start();
    const stream = subscribe(url);
    try {
      await waitFor(() => stream.views.some((v) => v.server.state === 'bound.listening'), 5_000, 'listening view');
      const client = await connect(port);
      await client.waitForText('\n');
      await waitFor(
        () => stream.views.some((v) => v.live.some((r) => r.state === 'open.awaitingReply.empty')),
        5_000,
        'the client in awaitingReply',
      );
      const live = stream.views.at(-1)!;
      expect(live.statesCount).toEqual({ 'open.awaitingReply.empty': 1 });
      expect(live.server.state).toBe('bound.accepting');
      client.socket.write('<script>alert(1)</script>\n');
      await client.closed;
      await waitFor(() => stream.views.some((v) => v.recent.length === 1), 5_000, 'the close');
      const after = stream.views.at(-1)!;
      expect(after.counters).toMatchObject({ live: 0, accepted: 1, closed: 1 });
      expect(after.recent[0]).toMatchObject({ state: 'closed', closeReason: 'replied', reply: '<script>alert(1)</script>' });
      const detail = (await (await fetch(`${url}api/connections/${after.recent[0]!.id}`)).json()) as {
        history: Array<{ event: string; state: string }>;
      };
      expect(detail.history.map((h) => h.state)).toEqual(['open.greeting', 'open.awaitingReply.empty', 'closing', 'closed']);
    } finally {
      stream.close();
    }
  });

  it('throttles pushes: a burst of 300 clients is a handful of messages', async () => {
    const { url, port } = await start(250);
    const stream = subscribe(url);
    try {
      await waitFor(() => stream.views.length >= 1, 5_000, 'first view');
      const before = stream.views.length;
      const startedAt = Date.now();
      await Promise.all(Array.from({ length: 300 }, (_, i) => converse(port, `n${i}\n`)));
      await waitFor(() => stream.views.at(-1)!.counters.closed === 300, 10_000, 'all 300 closed');
      const elapsed = Date.now() - startedAt;
      const pushes = stream.views.length - before;
      // Thousands of transitions, at most one push per 250 ms (plus the last one).
      expect(pushes).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
      expect(stream.views.at(-1)!.live).toEqual([]);
    } finally {
      stream.close();
    }
  });
});
