// 1,000 registered WebSocket clients sitting idle on the built CLI: the server holds them all,
// still answers a newcomer at once, delivers between two of them, and shuts down cleanly with
// every one told. What they cost in RSS is written to test-artifacts/websocket-idle.json.
import { readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { connectIrc } from '../irc/raw.js';
import { runServer, type Running } from '../process.js';
import { artifacts } from '../browser/chromium.js';

const clients = 1_000;
let server: (Running & { port: number }) | null = null;
const sockets: WebSocket[] = [];

afterAll(() => {
  for (const ws of sockets) ws.terminate();
  server?.proc.kill('SIGKILL');
});

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** Opens a WebSocket client and registers it; resolves on 001, with what it received kept. */
function registered(url: string, nick: string): Promise<{ ws: WebSocket; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['text.ircv3.net']);
    sockets.push(ws);
    const lines: string[] = [];
    ws.on('open', () => {
      ws.send(`NICK ${nick}`);
      ws.send(`USER ${nick} 0 * :idle`);
    });
    ws.on('message', (data: Buffer) => {
      const line = data.toString();
      lines.push(line);
      if (/^:\S+ 001 /.test(line)) resolve({ ws, lines });
    });
    ws.on('error', reject);
    ws.on('close', (code) => reject(new Error(`${nick} closed (${code}) before 001; got ${lines.slice(-3).join(' | ')}`)));
  });
}

const waitUntil = async (check: () => boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('1,000 idle WebSocket clients', () => {
  it('are held by one server, which still serves a newcomer at once and stops cleanly', async () => {
    server = await runServer([
      '--protocol', 'irc', '--websocket', '127.0.0.1:0', '--websocket-origin', '*', '--max-per-ip', '2000', '--log-format', 'json',
    ]);
    const url = (await server.waitForLine(/"webSocketUrl":"(ws:\/\/[^"]+)"/))[1]!;
    const before = rssKiB(server.proc.pid!);
    const started = Date.now();
    const held: Array<{ ws: WebSocket; lines: string[] }> = [];
    for (let i = 0; i < clients; i += 100) {
      held.push(...(await Promise.all(Array.from({ length: 100 }, (_, j) => registered(url, `idle${i + j}`)))));
    }
    const registerMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 300));
    const after = rssKiB(server.proc.pid!);

    // A newcomer over TCP is served at once and counts everyone.
    const probe = await connectIrc(server.port);
    const at = Date.now();
    await probe.register('probe');
    const welcomeMs = Date.now() - at;
    expect(probe.lines()).toContain(`:irc.localhost 251 probe :There are ${clients + 1} users and 0 invisible on 1 servers`);
    expect(welcomeMs).toBeLessThan(1_000);
    // Two of the idle ones still talk.
    const [first, last] = [held[0]!, held[clients - 1]!];
    first.ws.send(`PRIVMSG idle${clients - 1} :still there?`);
    await waitUntil(() => last.lines.some((l) => l.endsWith('PRIVMSG idle999 :still there?')), 5_000, 'the message between two idle clients');

    writeFileSync(
      new URL('websocket-idle.json', artifacts),
      `${JSON.stringify({ clients, registerMs, rssBeforeKiB: before, rssAfterKiB: after, rssPerClientKiB: Math.round(((after - before) / clients) * 10) / 10, welcomeMs }, null, 2)}\n`,
    );

    // Shutdown tells every one of them and finishes within the grace period.
    server.proc.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(server.stdout()).toContain('"event":"server.stopped","message":"Server stopped."');
    await waitUntil(() => held.every((c) => c.ws.readyState === WebSocket.CLOSED), 5_000, 'every client to be closed');
    expect(held.filter((c) => c.lines.some((l) => l.endsWith('[Server shutting down]'))).length).toBe(clients);
    probe.raw.socket.destroy();
  }, 60_000);
});
