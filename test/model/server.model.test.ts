// Model-based tests of the server machine's lifecycle: every simple path xstate/graph finds
// (start, bind or fail, clients in and out up to the cap and past it, shutdown with clients that
// close, that do not, and a second signal) replayed against a real server with real clients.
// The real server actor's trace of (state, sessions) must equal the model's. With a cap of two,
// every client in or out crosses a boundary the listener reports (none/some, full/not full), so
// each one is one `sessions.changed` in the model.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createActor, getNextSnapshot, type SnapshotFrom } from 'xstate';
import { getSimplePaths } from 'xstate/graph';
import { type ServerHandle } from '../../src/core/listener.js';
import { defaultConfig } from '../../src/core/config.js';
import { humanLogger } from '../../src/core/logger.js';
import { serverMachine, type ServerEvent } from '../../src/core/serverMachine.js';
import { waitFor, serve } from '../helpers.js';
import { afterEvent, dedupe, machineEventKeys, valuePath } from './graph.js';

type Snapshot = SnapshotFrom<typeof serverMachine>;

const maxConnections = 2;
// Up to five paths replay at once on one event loop (it.concurrent), on a 2-core machine that
// may be loaded: the grace period must be wide enough that the steps a path puts before it
// (a client's close, a second signal) land first, as the connection model's timers are. Each
// step's wait below is longer than the grace period, so a path that waits for it still passes.
const shutdownGraceMs = 2_000;
const stepTimeoutMs = shutdownGraceMs + 3_000;
const graceEvent = afterEvent(serverMachine, 'server.stopping', 'shutdownGrace');

const candidates: ServerEvent[] = [
  { type: 'server.start' },
  { type: 'net.listening', host: '127.0.0.1', port: 1 },
  { type: 'net.error', code: 'EADDRINUSE', message: 'listen EADDRINUSE' },
  { type: 'net.connection', id: 0, remote: '127.0.0.1:1' },
  { type: 'sessions.changed', sessions: 0 }, // the count is set per state in `realizable`
  { type: 'server.shutdown' },
  { type: 'net.close' },
  { type: graceEvent } as unknown as ServerEvent,
];

const unreachable: Record<string, string> = {
  // net.error once bound is an accept error (EMFILE): it only logs, the state does not change.
};

const live = (s: Snapshot) => s.context.sessions;
const isArrival = (e: ServerEvent, s: Snapshot) => e.type === 'sessions.changed' && e.sessions > live(s);

/** What real clients and signals can cause in this state. */
function realizable(s: Snapshot): ServerEvent[] {
  const stopping = s.matches('stopping');
  const closed: ServerEvent = { type: 'sessions.changed', sessions: live(s) - 1 };
  // `draining` lasts only until the 'close' already on its way reaches the last actor.
  if (s.matches({ stopping: 'draining' })) return [closed];
  const events = candidates.flatMap((e): ServerEvent[] => {
    if (e.type !== 'sessions.changed') return [e];
    // A client arrives (only an `admitting` state takes it as a session) or one leaves.
    const arrived: ServerEvent[] = s.hasTag('admitting') && live(s) < maxConnections ? [{ type: 'sessions.changed', sessions: live(s) + 1 }] : [];
    return live(s) > 0 ? [...arrived, closed] : arrived;
  });
  return events.filter((e) => {
    if (!s.can(e)) return false;
    switch (e.type) {
      case 'sessions.changed':
        if (isArrival(e, s)) return true;
        // Node reports the listener closed as soon as the last socket is destroyed, before that
        // socket's own 'close' reaches its actor: the last close while stopping is `net.close`.
        return live(s) > (stopping && s.matches({ stopping: 'closingListener' }) ? 1 : 0);
      case 'net.close':
        return live(s) <= 1;
      case 'net.connection':
        // Only a state that does not admit hears of a client; while stopping the listener is
        // closed and the kernel refuses new clients.
        return !stopping && !s.hasTag('admitting');
      case 'server.shutdown':
        return !stopping || live(s) > 0; // with nobody left, the stop is immediate
      default:
        if ((e.type as string) === graceEvent) return live(s) > 0;
        return true;
    }
  });
}

const fromState = createActor(serverMachine, {
  input: { host: '127.0.0.1', port: 0, maxConnections, shutdownGraceMs },
}).getSnapshot();
const key = (s: Snapshot) => JSON.stringify([valuePath(s.value), live(s), s.context.rejected > 0]);
const label = (e: ServerEvent) =>
  (e.type as string) === graceEvent ? 'after shutdownGrace' : e.type === 'sessions.changed' ? `sessions ${e.sessions}` : e.type;

const allPaths = getSimplePaths(serverMachine, {
  fromState,
  events: realizable,
  serializeState: key,
  serializeEvent: (e) => (e.type === 'sessions.changed' ? `${e.type}:${e.sessions}` : e.type),
});
const completePaths = allPaths.filter((p) => p.state.status === 'done');
const pathName = (p: (typeof allPaths)[number]) => p.steps.slice(1).map((s) => label(s.event)).join(' → ');

interface Client {
  socket: net.Socket;
  received: () => string;
  closed: boolean;
}

function connectClient(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the client closes only when the path says so, not on the server's FIN.
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const client: Client = { socket, received: () => Buffer.concat(chunks).toString('utf8'), closed: false };
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => (client.closed = true));
    socket.on('error', () => {});
    socket.once('connect', () => resolve(client));
    socket.once('error', reject);
  });
}

async function occupiedPort(): Promise<{ port: number; release: () => void }> {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  return { port: (blocker.address() as net.AddressInfo).port, release: () => blocker.close() };
}

async function replay(events: ServerEvent[]) {
  const model: Snapshot[] = [fromState];
  for (const e of events) model.push(getNextSnapshot(serverMachine, model.at(-1)!, e));

  const lines: string[] = [];
  const trace: Snapshot[] = [];
  const open: Client[] = [];
  const all: Client[] = [];
  let handle: ServerHandle | undefined;
  let port = 0;
  const busy = events.some((e) => e.type === 'net.error') ? await occupiedPort() : null;
  const reached = (i: number) =>
    waitFor(
      () => trace.some((s) => key(s) === key(model[i]!)),
      stepTimeoutMs,
      `${key(model[i]!)}; real trace: ${trace.map(key).join(' ')}`,
    );

  /** The oldest open client leaves: in `bound` it replies and is served; while stopping it just closes. */
  async function leave(state: Snapshot): Promise<void> {
    const client = open.shift();
    if (!client) return;
    if (!state.matches('stopping')) client.socket.write('hi\n');
    client.socket.end();
    await waitFor(() => client.closed, stepTimeoutMs, 'the client to be closed');
  }

  try {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      switch (e.type) {
        case 'server.start':
          handle = serve(
            {
              ...defaultConfig,
              host: '127.0.0.1',
              port: busy ? busy.port : 0,
              maxConnections,
              shutdownGraceMs,
              closeTimeoutMs: 60_000,
            },
            { logger: humanLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }) },
          );
          // startServer sends server.start itself; the trace starts in `binding`.
          trace.push(handle.actor.getSnapshot());
          handle.actor.subscribe((s) => trace.push(s));
          break;
        case 'net.listening':
          // From `abandoning` the server goes straight on to stop: there is no port to use.
          if (model[i]!.matches('binding')) port = (await handle!.listening).port;
          break;
        case 'net.error':
          await handle!.listening.catch(() => {});
          break;
        case 'net.connection': {
          // The machine is full: the client is turned away.
          const client = await connectClient(port);
          all.push(client);
          client.socket.on('end', () => client.socket.end()); // like nc: close when the server does
          await waitFor(() => client.closed, stepTimeoutMs, 'the busy client to be closed');
          expect(client.received()).toBe('error SERVER_BUSY: server busy, try again later\n');
          break;
        }
        case 'sessions.changed':
          if (isArrival(e, model[i]!)) {
            const client = await connectClient(port);
            all.push(client);
            open.push(client);
            await waitFor(() => client.received() === "Hey What's up?\n", stepTimeoutMs, 'the greeting');
          } else {
            await leave(model[i]!);
          }
          break;
        case 'net.close':
          await leave(model[i]!);
          break;
        case 'server.shutdown':
          handle!.shutdown();
          break;
        default: {
          const type: string = (e as { type: string }).type;
          if (type !== graceEvent) throw new Error(`no real action for ${type}`);
          break; // nobody closes: wait for the grace period
        }
      }
      await reached(i + 1);
      if (e.type === 'server.shutdown' && model[i]!.matches('bound')) {
        for (const c of open) {
          await waitFor(() => c.received().endsWith('error SHUTTING_DOWN: server is shutting down, goodbye\n'), stepTimeoutMs, 'goodbye');
        }
      }
    }
    const outcome = await handle!.done;
    return { model, trace, lines, outcome, all, liveAtEnd: handle!.liveConnections(), accepted: handle!.accepted() };
  } finally {
    for (const c of all) c.socket.destroy();
    handle?.shutdown();
    await handle?.done;
    busy?.release();
  }
}

describe('server machine, model-based', () => {
  afterAll(() => {
    console.log(`server model: ${allPaths.length} simple paths, ${completePaths.length} complete paths replayed`);
  });

  it('has a real action (or a stated reason) for every event the machine knows', () => {
    const keys = new Set(machineEventKeys(serverMachine).values());
    const covered = new Set<string>(candidates.map((e) => ((e.type as string) === graceEvent ? 'after:shutdownGrace' : e.type)));
    expect([...keys].filter((k) => !covered.has(k) && !(k in unreachable))).toEqual([]);
  });

  it('generates paths to replay: at least 43 simple paths and 21 complete ones', () => {
    // Without this, a change to the machine or to `realizable` that left xstate/graph with no
    // path would leave the replay below with nothing to run, and the file would still pass.
    expect(allPaths.length).toBeGreaterThanOrEqual(43);
    expect(completePaths.length).toBeGreaterThanOrEqual(21);
  });

  it('covers every simple path and every state', () => {
    const complete = completePaths.map(pathName);
    for (const p of allPaths) expect(complete.some((c) => c.startsWith(pathName(p)))).toBe(true);
    const states = new Set(completePaths.flatMap((p) => p.steps.map((s) => valuePath(s.state.value))));
    expect([...states].sort()).toEqual(
      [
        'abandoning', 'binding', 'bound.accepting', 'bound.full', 'bound.listening', 'failed', 'idle', 'stopped',
        'stopping.closingListener', 'stopping.draining',
      ].sort(),
    );
  });

  it.concurrent.each(completePaths.map((p) => [pathName(p), p] as const))('%s', async (_name, path) => {
    const events = path.steps.slice(1).map((s) => s.event);
    const { model, trace, lines, outcome, liveAtEnd, accepted } = await replay(events);
    const arrivals = events.filter((e, i) => isArrival(e, model[i]!)).length;
    // In the actor: the same states with the same number of live connections, in order.
    const seen = (snaps: Snapshot[]) => dedupe(snaps.map((s) => `${valuePath(s.value)}:${live(s)}`));
    expect(seen(trace)).toEqual(seen(model.slice(1))); // the trace starts after server.start
    const last = model.at(-1)!;
    // Invariants the model itself must keep, whatever the transitions say.
    for (const m of model) {
      expect(live(m)).toBeLessThanOrEqual(maxConnections);
      if (m.matches({ bound: 'full' })) expect(live(m)).toBe(maxConnections);
      if (m.matches({ bound: 'listening' })) expect(live(m)).toBe(0);
    }
    // The outcome the CLI turns into an exit code.
    expect(outcome.state).toBe(valuePath(last.value));
    const isGrace = (e: ServerEvent) => (e.type as string) === graceEvent;
    const isSecondShutdown = (e: ServerEvent, i: number) => e.type === 'server.shutdown' && model[i]!.matches('stopping');
    const forced = events.some((e, i) => isGrace(e) || isSecondShutdown(e, i));
    expect(outcome.forced).toBe(forced);
    expect(liveAtEnd).toBe(0);
    if (last.matches('failed')) {
      expect(outcome.failure?.code).toBe('ADDRESS_IN_USE');
      expect(lines.at(-1)).toMatch(/^error: port \d+ is already in use on 127\.0\.0\.1$/);
    } else {
      const byGrace = events.some(isGrace);
      expect(lines.at(-1)).toBe(
        !forced
          ? 'Server stopped.'
          : byGrace
            ? 'Server stopped (grace period over, remaining connections destroyed).'
            : 'Server stopped (a second signal: remaining connections destroyed).',
      );
      expect(accepted).toBe(arrivals);
      expect(trace.at(-1)!.context.rejected).toBe(last.context.rejected);
      // Unless the stop was forced, every accepted connection finished on its own and said so.
      const closedLines = lines.filter((l) => / closed \(\w+\)\.$/.test(l));
      if (!forced) expect(closedLines).toHaveLength(arrivals);
    }
  });
});
