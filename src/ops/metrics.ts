// --metrics: what an operator scrapes, as Prometheus text at /metrics (prom-client). Every
// figure is read when it is scraped, from what the listener, the session adapters and the Redis
// link already keep (counts, the machines' snapshots): serving metrics adds nothing per
// connection. With --workers, each worker keeps its registry and the primary serves them all
// (prom-client's cluster aggregation over the workers' IPC channel), each series labelled with
// its worker, plus its own machine's state.
//
// Loaded only when --metrics is given (like the live view), so a server without it does not
// carry prom-client.

import http from 'node:http';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { statePath } from './inspect/monitor.js';
import type { IrcService } from '../irc/service.js';
import type { ServerHandle } from '../core/listener.js';

/** How long a scrape waits for Redis to answer its PING before it reports Redis as not answering. */
const redisPingTimeoutMs = 1_000;

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** A counter whose value is read from a running total when scraped (it never goes down). */
function totalCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * This server process's figures: its machines' states, what the listener counted, the IRC
 * adapter's counters and the Redis link (when there are ones), and Node's own process metrics
 * (event-loop lag, CPU, memory, handles).
 */
export function serverRegistry(server: ServerHandle, ircService: IrcService | null): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const sessionMachine = server.protocol.sessionMachine.id;

  new Gauge({
    name: 'chat_server_state',
    help: 'The server machine: 1 for the state it is in (with --workers, one series per worker)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ state: statePath(server.actor.getSnapshot().value) }, 1);
    },
  });
  new Gauge({
    name: 'chat_sessions',
    help: 'Live sessions by session machine and state',
    labelNames: ['machine', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const actor of server.connections().values()) {
        const state = statePath(actor.getSnapshot().value);
        counts.set(state, (counts.get(state) ?? 0) + 1);
      }
      for (const [state, n] of counts) this.set({ machine: sessionMachine, state }, n);
    },
  });
  totalCounter(registry, 'chat_connections_accepted_total', 'Clients admitted as sessions', () => server.accepted());
  totalCounter(registry, 'chat_connections_turned_away_total', 'Clients turned away (server full or stopping)', () =>
    server.actor.getSnapshot().context.rejected,
  );
  totalCounter(
    registry,
    'chat_tls_handshakes_failed_total',
    'TLS clients dropped before they were sessions: a failed or timed-out handshake on the --tls-cert port',
    () => server.tlsFailures(),
  );
  new Counter({
    name: 'chat_connections_closed_total',
    help: 'Sessions finished, by close reason (sendqExceeded and excessFlood are the sendq and flood disconnects)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of server.closedByReason()) this.inc({ reason }, n);
    },
  });

  const irc = ircService?.protocol;
  const network = ircService?.network ?? null;
  if (irc) {
    const stats = irc.stats;
    totalCounter(registry, 'chat_irc_registrations_total', 'IRC clients welcomed (001 sent)', () => stats.registrations);
    totalCounter(registry, 'chat_irc_commands_total', 'IRC commands run', () => stats.commands);
    totalCounter(registry, 'chat_irc_messages_total', 'PRIVMSG and NOTICE commands run (messages in)', () => stats.chatMessages);
    totalCounter(registry, 'chat_irc_deliveries_total', 'Lines queued to clients (one message to one client is one)', () => stats.linesOut);
    totalCounter(registry, 'chat_irc_received_bytes_total', 'Bytes read from IRC clients', () => stats.bytesIn);
    totalCounter(registry, 'chat_irc_sent_bytes_total', 'Bytes written to IRC clients', () => stats.bytesOut);
    new Gauge({
      name: 'chat_irc_users',
      help: 'Registered users on this server (with --workers, on this worker); NaN while the network state (Redis) does not answer',
      registers: [registry],
      async collect() {
        // On Redis the count is a query: an outage must not fail the whole scrape.
        this.set(await irc.totals().then((t) => t.users, () => Number.NaN));
      },
    });
  }

  if (network) {
    // One PING per scrape, shared by the two gauges below (prom-client collects them together).
    let scrapePing: Promise<number | null> | null = null;
    const ping = (): Promise<number | null> =>
      (scrapePing ??= network
        .ping(redisPingTimeoutMs)
        .catch(() => null)
        .finally(() => setImmediate(() => (scrapePing = null))));
    new Gauge({
      name: 'chat_redis_link_state',
      help: 'The Redis link machine: 1 for the state it is in (up, down, resyncing, ...)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        this.set({ state: network.linkState() }, 1);
      },
    });
    new Gauge({
      name: 'chat_redis_up',
      help: 'Whether Redis answered a PING during this scrape (1) or not within 1 s (0)',
      registers: [registry],
      async collect() {
        this.set((await ping()) === null ? 0 : 1);
      },
    });
    new Gauge({
      name: 'chat_redis_ping_seconds',
      help: "Round trip of this scrape's PING to Redis (NaN when it did not answer)",
      registers: [registry],
      async collect() {
        const ms = await ping();
        this.set(ms === null ? Number.NaN : ms / 1000);
      },
    });
  }
  return registry;
}

/**
 * A --workers worker: the primary asks for this registry over IPC when it is scraped. Each
 * series carries `worker="N"`, so the primary shows them side by side rather than summed: a
 * worker that dies and is replaced starts its counters at 0, and summed, the total would drop,
 * which Prometheus reads as a reset of the whole counter (rate() then counts the survivors'
 * totals again). Per worker, each series resets on its own, as Prometheus expects; sum in the
 * query (`sum without (worker) (...)`).
 */
export function shareWithPrimary(registry: Registry, worker: number): void {
  registry.setDefaultLabels({ worker: String(worker) });
  // Constructing one is what makes prom-client answer the primary's requests in a worker.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** A --workers primary: its own machine's state; the workers' figures come labelled by worker. */
export function primaryRenderer(primaryState: () => string): () => Promise<string> {
  const own = new Registry();
  new Gauge({
    name: 'chat_primary_state',
    help: 'The primary machine (--workers): 1 for the state it is in',
    labelNames: ['state'],
    registers: [own],
    collect() {
      this.reset();
      this.set({ state: primaryState() }, 1);
    },
  });
  const workers = new AggregatorRegistry();
  return async () => `${await workers.clusterMetrics()}\n${await own.metrics()}`;
}

/** Serves `render()` at http://host:port/metrics (and 404 elsewhere). */
export async function startMetricsServer(address: { host: string; port: number }, render: () => Promise<string>): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    // HEAD is GET without the body (Node leaves the body out); anything else is refused as such.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed: GET /metrics\n');
      return;
    }
    render().then(
      (text) => res.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
