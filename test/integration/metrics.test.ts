// --metrics: Prometheus text scraped over HTTP from the real CLI while real clients use it, for
// the greeting server, IRC, --workers (the primary sums its workers) and IRC on Redis.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, converse, waitFor } from '../helpers.js';
import { run, runServer, serverBin, type Running } from '../process.js';
import { startRedis, type RedisServer } from '../redis/redisServer.js';
import { selfSignedCert } from '../tlsCert.js';

const running: Running[] = [];
const redises: RedisServer[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of running.splice(0)) r.proc.kill('SIGKILL');
  for (const r of redises.splice(0)) await r.stop();
});

async function serverWithMetrics(args: string[] = []) {
  const r = await runServer(['--metrics', '127.0.0.1:0', ...args]);
  running.push(r);
  const [, url] = await r.waitForLine(/Metrics: Prometheus text at (http:\/\/127\.0\.0\.1:\d+\/metrics)/);
  return Object.assign(r, { metricsUrl: url! });
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one sample: `name` with exactly these labels (none for a plain metric). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter((l) => l !== '').sort().join(',');
    if (have === want) return Number(m[3]);
  }
  return undefined;
}

/** Scrapes until `check` holds for the text (figures are read at scrape time; the log may lag). */
async function scrapeUntil(url: string, check: (text: string) => boolean, what: string): Promise<string> {
  let text = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    text = await scrape(url);
    if (check(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`metrics never showed ${what}; last scrape:\n${text}`);
}

/** A raw IRC client: registers with NICK/USER and waits for 001. */
async function ircClient(port: number, nick: string) {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let text = '';
  socket.on('data', (d) => (text += d.toString('utf8')));
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await waitFor(() => text.includes(` 001 ${nick} `), 5_000, `${nick} welcomed`);
  return { socket, text: () => text };
}

describe('--metrics', () => {
  it('serves the greeting server: sessions by state, accepted, closed by reason, event-loop lag', async () => {
    const s = await serverWithMetrics();
    const idle = await connect(s.port);
    await idle.waitForText('\n');
    let text = await scrapeUntil(
      s.metricsUrl,
      (t) => sample(t, 'chat_sessions', { machine: 'connection', state: 'open.awaitingReply.empty' }) === 1,
      'one session waiting for its reply',
    );
    expect(sample(text, 'chat_server_state', { state: 'bound.accepting' })).toBe(1);
    expect(sample(text, 'chat_connections_accepted_total')).toBe(1);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    expect(await converse(s.port, 'hello\n')).toBe("Hey What's up?\n");
    text = await scrapeUntil(s.metricsUrl, (t) => sample(t, 'chat_connections_closed_total', { reason: 'replied' }) === 1, 'one replied');
    expect(sample(text, 'chat_connections_accepted_total')).toBe(2);
    idle.socket.end(); // the client ends its side without a reply
    text = await scrapeUntil(s.metricsUrl, (t) => sample(t, 'chat_connections_closed_total', { reason: 'clientEnded' }) === 1, 'one ended');
    expect(sample(text, 'chat_server_state', { state: 'bound.listening' })).toBe(1);
    expect(sample(text, 'chat_sessions', { machine: 'connection', state: 'open.awaitingReply.empty' })).toBeUndefined();

    const other = await fetch(s.metricsUrl.replace('/metrics', '/'));
    expect(other.status).toBe(404);
    // HEAD as GET without a body (what `curl -I` and health checks send); POST refused as a method.
    const head = await fetch(s.metricsUrl, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(s.metricsUrl, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('counts TLS clients dropped at the handshake (plain text to the TLS port)', async () => {
    const { cert, key, remove } = selfSignedCert('metrics-tls');
    try {
      const s = await serverWithMetrics(['--tls-cert', cert, '--tls-key', key]);
      expect(sample(await scrape(s.metricsUrl), 'chat_tls_handshakes_failed_total')).toBe(0);
      for (let i = 0; i < 2; i++) {
        const plain = net.connect(s.port, '127.0.0.1');
        plain.on('error', () => {});
        plain.write('NICK plain\r\n');
        await new Promise<void>((resolve) => plain.on('close', () => resolve()));
      }
      const text = await scrapeUntil(s.metricsUrl, (t) => sample(t, 'chat_tls_handshakes_failed_total') === 2, 'two failed handshakes');
      expect(sample(text, 'chat_connections_accepted_total')).toBe(0);
    } finally {
      remove();
    }
  });

  it('refuses to start when the metrics port is taken, saying which', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = run(serverBin, ['--host', '127.0.0.1', '--port', '0', '--metrics', `127.0.0.1:${port}`]);
      running.push(r);
      expect((await r.exited).code).toBe(1);
      expect(r.stdout() + r.stderr()).toContain(`metrics: port ${port} is already in use on 127.0.0.1`);
    } finally {
      blocker.close();
    }
  });

  it('serves IRC: registrations, messages in, deliveries out, bytes, users', async () => {
    const s = await serverWithMetrics(['--protocol', 'irc']);
    const alice = await ircClient(s.port, 'alice');
    const bob = await ircClient(s.port, 'bob');
    alice.socket.write('JOIN #m\r\n');
    bob.socket.write('JOIN #m\r\n');
    await waitFor(() => alice.text().includes('JOIN #m') && bob.text().includes(' 366 bob #m '), 5_000, 'both in #m');
    bob.socket.write('PRIVMSG #m :hello alice\r\n');
    await waitFor(() => alice.text().includes('PRIVMSG #m :hello alice'), 5_000, 'the message to reach alice');
    const text = await scrapeUntil(s.metricsUrl, (t) => sample(t, 'chat_irc_messages_total') === 1, 'one PRIVMSG');
    expect(sample(text, 'chat_irc_registrations_total')).toBe(2);
    expect(sample(text, 'chat_irc_users')).toBe(2);
    expect(sample(text, 'chat_sessions', { machine: 'ircSession', state: 'open.registered.active' })).toBe(2);
    // NICK, USER, JOIN each, and the PRIVMSG.
    expect(sample(text, 'chat_irc_commands_total')).toBe(7);
    expect(sample(text, 'chat_irc_deliveries_total')).toBeGreaterThan(20); // welcomes, joins, names, the message
    expect(sample(text, 'chat_irc_received_bytes_total')).toBeGreaterThan(60);
    expect(sample(text, 'chat_irc_sent_bytes_total')).toBeGreaterThan(sample(text, 'chat_irc_received_bytes_total')!);
  });

  it('serves every worker in the primary, each series labelled with its worker (--workers 2)', async () => {
    const s = await serverWithMetrics(['--workers', '2']);
    await s.waitForLine(/listening on 127\.0\.0\.1:\d+ \(2 workers\)/);
    await Promise.all(Array.from({ length: 10 }, (_, i) => converse(s.port, `client ${i}\n`)));
    const workers = ['1', '2'];
    const total = (t: string, name: string, labels: Record<string, string> = {}) =>
      workers.reduce((n, worker) => n + (sample(t, name, { ...labels, worker }) ?? 0), 0);
    const text = await scrapeUntil(s.metricsUrl, (t) => total(t, 'chat_connections_closed_total', { reason: 'replied' }) === 10, 'ten replied over both workers');
    expect(sample(text, 'chat_primary_state', { state: 'running' })).toBe(1);
    expect(total(text, 'chat_connections_accepted_total')).toBe(10);
    // Not summed: a worker replaced after a crash starts at 0 on its own series, which
    // Prometheus reads as that series' reset, not as a drop of the whole counter.
    expect(sample(text, 'chat_connections_accepted_total')).toBeUndefined();
    // Both workers, each in one state: listening again once their clients left.
    for (const worker of workers) expect(sample(text, 'chat_server_state', { state: 'bound.listening', worker })).toBe(1);
    expect(sample(text, 'process_resident_memory_bytes', { worker: '2' })).toBeGreaterThan(0);
  });

  it('reports the Redis link on --redis, and when Redis stops answering', async () => {
    const redis = await startRedis();
    redises.push(redis);
    const s = await serverWithMetrics(['--protocol', 'irc', '--redis', redis.url]);
    let text = await scrapeUntil(s.metricsUrl, (t) => sample(t, 'chat_redis_up') === 1, 'Redis up');
    expect(sample(text, 'chat_redis_link_state', { state: 'up' })).toBe(1);
    expect(sample(text, 'chat_redis_ping_seconds')).toBeGreaterThan(0);
    redis.kill('SIGSTOP'); // frozen: connections stay open, nothing answers
    try {
      text = await scrapeUntil(s.metricsUrl, (t) => sample(t, 'chat_redis_up') === 0, 'Redis not answering');
      expect(Number.isNaN(sample(text, 'chat_redis_ping_seconds'))).toBe(true);
    } finally {
      redis.kill('SIGCONT');
    }
  });
});
