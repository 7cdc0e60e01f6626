// Model-based tests of the connection machine. xstate/graph walks the machine's own definition
// and lists every simple path; each path is then replayed against a real server on a real
// socket: each event becomes a real client action (or a shutdown), and after every step the
// real actor and the bytes on the wire are checked against the model's snapshot.
//
// Which events a real client can cause in which state is the only thing written by hand here
// (`realizable` below); the paths themselves follow the machine. A new event type with no real
// action fails the first test until it is given one or listed as unreachable, with a reason.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createActor, getNextSnapshot, type SnapshotFrom } from 'xstate';
import { getSimplePaths } from 'xstate/graph';
import { startServer } from '../../src/core/listener.js';
import { defaultConfig, type ConnectionLimits } from '../../src/core/config.js';
import { humanLogger } from '../../src/core/logger.js';
import {
  connectionMachine,
  goodbyeLine,
  type ConnectionEvent,
} from '../../src/greeting/connectionMachine.js';
import { escapeText } from '../../src/core/escape.js';
import { waitFor, serve } from '../helpers.js';
import { afterEvent, dedupe, machineEventKeys, valuePath } from './graph.js';

type Snapshot = SnapshotFrom<typeof connectionMachine>;

const limits: ConnectionLimits = {
  greeting: "Hey What's up?",
  maxReplyBytes: 64,
  // Wide enough that a loaded 2-core machine does not let the quiet timer fire between two
  // steps that the path says come first.
  replyTimeoutMs: 2_000,
  replyQuietMs: 500,
  closeTimeoutMs: 2_000,
};

const enc = (s: string) => new TextEncoder().encode(s);
const after = {
  replyTimeout: afterEvent(connectionMachine, 'connection.open', 'replyTimeout'),
  replyQuiet: afterEvent(connectionMachine, 'connection.open.awaitingReply.partial', 'replyQuiet'),
};

/** A model event plus the name of the real action that produces it. */
type ModelEvent = ConnectionEvent & { how?: string };

const candidates: ModelEvent[] = [
  { type: 'socket.written' },
  { type: 'socket.data', bytes: enc('hel'), how: 'partial' },
  { type: 'socket.data', bytes: enc('lo, wörld \u001b[1m!\r\n'), how: 'line' },
  { type: 'socket.data', bytes: enc('x'.repeat(limits.maxReplyBytes + 1)), how: 'overflow' },
  { type: 'socket.end' },
  { type: 'socket.error', code: 'ECONNRESET', message: 'read ECONNRESET', how: 'reset' },
  { type: 'socket.close' },
  { type: 'server.shutdown' },
  { type: after.replyTimeout } as unknown as ModelEvent,
  { type: after.replyQuiet } as unknown as ModelEvent,
];

/**
 * Event keys of the machine that no real client can cause, and why. Their transitions are
 * covered by the unit tests (test/unit/connectionMachine.test.ts) instead.
 */
const unreachable: Record<string, string> = {
  'after:closeTimeout': 'destroys the socket without changing state; the socket.close that follows is the step',
};

/** The events a real client can cause in this state (a subset of what the machine accepts). */
function realizable(snapshot: Snapshot): ModelEvent[] {
  // The greeting goes to the kernel at once; nothing the client does can land before it.
  if (snapshot.matches({ open: 'greeting' })) return [{ type: 'socket.written' }];
  return candidates.filter((e) => {
    // In `open` a close without an error first needs the server to destroy the socket; from the
    // client side a close is always an 'end' (FIN) or an 'error' (RST) first.
    if (e.type === 'socket.close' && !snapshot.matches('closing')) return false;
    return snapshot.can(e as ConnectionEvent);
  });
}

const fromState = createActor(connectionMachine, {
  input: { id: 1, remote: '127.0.0.1:1', limits },
}).getSnapshot();

const serialize = (s: Snapshot) => JSON.stringify([s.value, s.context.closeReason, s.context.reply]);
const describeEvent = (e: ModelEvent) => (e.how ? `${e.type}(${e.how})` : e.type.replace(/^xstate\.after\.(\w+)\..*/, 'after $1'));

const allPaths = getSimplePaths(connectionMachine, {
  fromState,
  events: realizable,
  serializeState: serialize,
  serializeEvent: (e) => JSON.stringify({ type: e.type, how: (e as ModelEvent).how }),
});
// Every simple path is a prefix of one that ends with the connection closed; replaying those
// covers every step of every path (checked below).
const completePaths = allPaths.filter((p) => p.state.status === 'done');
const pathName = (p: (typeof allPaths)[number]) => p.steps.slice(1).map((s) => describeEvent(s.event as ModelEvent)).join(' → ');

interface Replay {
  trace: Snapshot[];
  logLines: string[];
  received: () => string;
}

async function replay(events: ModelEvent[]): Promise<{ model: Snapshot[]; real: Replay }> {
  // The model's own snapshots, step by step (a path's stored snapshots are shared between
  // paths that reach the same state, so recompute them).
  const model: Snapshot[] = [fromState];
  for (const e of events) model.push(getNextSnapshot(connectionMachine, model.at(-1)!, e as ConnectionEvent));

  const logLines: string[] = [];
  const trace: Snapshot[] = [];
  let actorDone: () => void = () => {};
  const finished = new Promise<void>((r) => (actorDone = r));
  const handle = serve(
    { ...defaultConfig, ...limits, host: '127.0.0.1', port: 0 },
    {
      logger: humanLogger({ out: (l) => logLines.push(l), err: (l) => logLines.push(l) }),
      onConnectionActor: (actor) =>
        actor.subscribe({
          next: (s) => trace.push(s),
          complete: () => actorDone(),
        }),
    },
  );
  const { port } = await handle.listening;
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', () => {});
  let serverEnded = false;
  let socketClosed = false;
  socket.on('end', () => (serverEnded = true));
  socket.on('close', () => (socketClosed = true));
  let clientEnded = false;
  let clientGone = false;
  const received = () => Buffer.concat(chunks).toString('utf8');
  await new Promise<void>((r) => socket.once('connect', () => r()));

  const reached = (i: number) =>
    waitFor(
      () => {
        const want = serialize(model[i]!);
        return trace.some((s) => serialize(s) === want);
      },
      3_000,
      `state ${valuePath(model[i]!.value)} (${model[i]!.context.closeReason ?? 'open'}); real trace: ${trace.map((s) => valuePath(s.value)).join(', ')}`,
    );

  try {
    await reached(0);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const before = model[i]!;
      switch (e.type === after.replyTimeout ? 'after:replyTimeout' : e.type === after.replyQuiet ? 'after:replyQuiet' : e.type) {
        case 'socket.written':
          break; // the server flushes the greeting on its own
        case 'socket.data':
          socket.write(e.type === 'socket.data' ? e.bytes : '');
          break;
        case 'socket.end':
          socket.end();
          clientEnded = true;
          break;
        case 'socket.error':
          socket.resetAndDestroy();
          clientGone = true;
          break;
        case 'socket.close':
          // After our FIN or RST the close follows by itself; otherwise we end our side.
          if (!clientEnded && !clientGone) {
            socket.end();
            clientEnded = true;
          }
          break;
        case 'server.shutdown':
          handle.shutdown();
          break;
        case 'after:replyQuiet':
          break; // just stay quiet
        case 'after:replyTimeout':
          if (before.matches({ open: { awaitingReply: 'partial' } })) {
            // From `partial` only a client that keeps trickling bytes (never quiet) meets the
            // deadline: the slowloris path.
            const trickle = setInterval(() => socket.writable && socket.write('.'), limits.replyQuietMs / 3);
            await reached(i + 1).finally(() => clearInterval(trickle));
          }
          break;
        default:
          throw new Error(`no real action for ${e.type}`);
      }
      await reached(i + 1);
      // On the wire, once the connection is closing: the greeting, then the goodbye line if the
      // reason calls for one, then the server's FIN.
      if (model[i + 1]!.matches('closing') && !clientGone) {
        const expected = `${limits.greeting}\n${goodbyeLine(model[i + 1]!.context) ?? ''}`;
        await waitFor(() => received() === expected, 3_000, `wire to read ${JSON.stringify(expected)}, got ${JSON.stringify(received())}`);
      } else if (model[i + 1]!.matches({ open: 'awaitingReply' }) && i + 1 > 0) {
        await waitFor(() => received() === `${limits.greeting}\n`, 3_000, 'the greeting');
      }
    }
    await finished;
    // On the wire, at the end: the server ended its side and the connection is closed (unless
    // the client reset it itself).
    if (!clientGone) {
      await waitFor(() => serverEnded && socketClosed, 3_000, `the server to close the connection (FIN seen: ${serverEnded})`);
    }
    return { model, real: { trace, logLines, received } };
  } finally {
    socket.destroy();
    handle.shutdown();
    await handle.done;
  }
}

describe('connection machine, model-based', () => {
  afterAll(() => {
    console.log(`connection model: ${allPaths.length} simple paths, ${completePaths.length} complete paths replayed`);
  });

  it('has a real client action (or a stated reason) for every event the machine knows', () => {
    const keys = new Set(machineEventKeys(connectionMachine).values());
    const covered = new Set<string>(
      candidates.map((e) =>
        e.type === after.replyTimeout ? 'after:replyTimeout' : e.type === after.replyQuiet ? 'after:replyQuiet' : e.type,
      ),
    );
    const missing = [...keys].filter((k) => !covered.has(k) && !(k in unreachable));
    expect(missing, 'events with no real action: add one to `candidates` or a reason to `unreachable`').toEqual([]);
  });

  it('generates paths to replay: at least 29 simple paths and 13 complete ones', () => {
    // Without this, a change to the machine or to `realizable` that left xstate/graph with no
    // path would leave the replay below with nothing to run, and the file would still pass.
    expect(allPaths.length).toBeGreaterThanOrEqual(29);
    expect(completePaths.length).toBeGreaterThanOrEqual(13);
  });

  it('replays paths that reach every state and every close reason', () => {
    const states = new Set(completePaths.flatMap((p) => p.steps.map((s) => valuePath(s.state.value))));
    const reasons = new Set(completePaths.map((p) => p.state.context.closeReason));
    expect([...states].sort()).toEqual(
      ['closed', 'closing', 'open.awaitingReply.empty', 'open.awaitingReply.partial', 'open.greeting'].sort(),
    );
    expect([...reasons].sort()).toEqual(
      ['clientEnded', 'replied', 'replyTimeout', 'replyTooLong', 'shutdown', 'socketError'].sort(),
    );
  });

  it('covers every simple path: each one is a prefix of a replayed complete path', () => {
    const complete = completePaths.map(pathName);
    for (const p of allPaths) expect(complete.some((c) => c.startsWith(pathName(p)))).toBe(true);
  });

  it.concurrent.each(completePaths.map((p) => [pathName(p), p] as const))('%s', async (_name, path) => {
    const events = path.steps.slice(1).map((s) => s.event as ModelEvent);
    const { model, real } = await replay(events);
    // In the actor: the real run went through exactly the model's states, in order.
    const visited = (snaps: Snapshot[]) => dedupe(snaps.map((s) => valuePath(s.value)));
    expect(visited(real.trace)).toEqual(visited(model));
    const last = model.at(-1)!;
    // Invariants the model itself must keep, whatever the transitions say.
    for (const m of model) {
      expect(m.context.buffered.length).toBeLessThanOrEqual(limits.maxReplyBytes + 1);
      if (m.matches('closing') || m.status === 'done') expect(m.context.closeReason).not.toBeNull();
      if (m.context.reply !== null) expect(new TextEncoder().encode(m.context.reply).length).toBeLessThanOrEqual(limits.maxReplyBytes * 3);
    }
    const realLast = real.trace.at(-1)!;
    expect(realLast.status).toBe('done');
    expect(realLast.context.closeReason).toBe(last.context.closeReason);
    expect(realLast.context.reply).toBe(last.context.reply);
    // In the log: the payload line exactly when the model has a reply, escaped; the close reason.
    const payload = real.logLines.filter((l) => l.includes('Client Response Payload:'));
    if (last.context.reply === null) expect(payload).toEqual([]);
    else expect(payload).toEqual([`#1 Client Response Payload: ${escapeText(last.context.reply)}`]);
    expect(real.logLines.some((l) => l.endsWith(`closed (${last.context.closeReason}).`))).toBe(true);
    expect(real.logLines.filter((l) => l.includes('still open'))).toEqual([]);
  });
});
