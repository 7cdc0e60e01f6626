// The live view's HTTP side (node:http): the page (the built files of src/browser/liveView/,
// always read from dist/: src/core/pageFiles.ts), the two diagrams, a Server-Sent Events stream
// of the monitor's view, and one connection's history as JSON. Pushes are throttled (at most
// one per pushIntervalMs, and none when nothing changed), so a burst of thousands of
// transitions costs each browser a few small messages a second.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Monitor } from './monitor.js';
import { pageFiles } from '../../core/pageFiles.js';

export interface InspectServerOptions {
  host: string;
  port: number;
  monitor: Monitor;
  /** SVG text per diagram name (`server`, `connection`). */
  diagrams: Record<string, string>;
  /** Most one push per this many ms to each browser. */
  pushIntervalMs?: number;
}

export interface InspectServer {
  url: string;
  close(): Promise<void>;
}

// Only our own script may run; inline styles are allowed for the SVG diagrams' <style>.
const securityHeaders = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

export function startInspectServer(options: InspectServerOptions): Promise<InspectServer> {
  const { monitor, diagrams } = options;
  let files: ReturnType<typeof pageFiles>;
  try {
    files = pageFiles('liveView');
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const pushIntervalMs = options.pushIntervalMs ?? 250;
  const streams = new Set<http.ServerResponse>();
  let timer: NodeJS.Timeout | null = null;
  let pushedVersion = -1;

  function push(): void {
    timer = null;
    if (streams.size === 0 || monitor.changes === pushedVersion) return;
    pushedVersion = monitor.changes;
    const message = `event: view\ndata: ${JSON.stringify(monitor.view())}\n\n`;
    for (const res of streams) res.write(message);
  }
  const stopWatching = monitor.onChange(() => {
    if (timer === null && streams.size > 0) timer = setTimeout(push, pushIntervalMs);
  });
  // Keeps idle streams open through proxies and lets browsers notice a dead server.
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();

  function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { 'Content-Type': type, ...securityHeaders });
    res.end(body);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    const file = files.get(url.pathname);
    if (file) return send(res, 200, file.type, file.body);
    const diagram = /^\/diagrams\/(\w+)\.svg$/.exec(url.pathname);
    if (diagram && diagrams[diagram[1]!] !== undefined) {
      return send(res, 200, 'image/svg+xml; charset=utf-8', diagrams[diagram[1]!]!);
    }
    if (url.pathname === '/api/view') return send(res, 200, 'application/json', JSON.stringify(monitor.view()));
    const conn = /^\/api\/connections\/(\d+)$/.exec(url.pathname);
    if (conn) {
      const detail = monitor.connection(Number(conn[1]));
      return detail
        ? send(res, 200, 'application/json', JSON.stringify(detail))
        : send(res, 404, 'application/json', JSON.stringify({ error: 'unknown connection' }));
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', ...securityHeaders });
      res.write(`retry: 1000\nevent: view\ndata: ${JSON.stringify(monitor.view())}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            stopWatching();
            clearInterval(heartbeat);
            if (timer) clearTimeout(timer);
            for (const res of streams) res.end();
            streams.clear();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
