// The server machine on its own: fake side effects, a simulated clock, no net.Server.
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { serverMachine } from '../../src/core/serverMachine.js';

const effects = [
  'listen', 'logListening', 'logFailure', 'logServerError', 'rejectConnection', 'closeListener',
  'notifyConnections', 'destroyConnections', 'logStopping', 'logStopped',
] as const;

function start(maxConnections = 2) {
  const calls: string[] = [];
  const actions = Object.fromEntries(
    effects.map((name) => [
      name,
      (_: unknown, params?: { code?: string; why?: string }) => void calls.push(params ? `${name}:${params.code ?? params.why}` : name),
    ]),
  );
  const clock = new SimulatedClock();
  const actor = createActor(serverMachine.provide({ actions }), {
    input: { host: 'localhost', port: 8028, maxConnections, shutdownGraceMs: 1_000 },
    clock,
  });
  actor.start();
  // What the listener does (src/core/listener.ts): an `admitting` state takes the client
  // without a step; the count is reported when it crosses none/some or full/not full; any other
  // state hears of the client as net.connection.
  let id = 0;
  let sessions = 0;
  let admitted = 0;
  const report = () => actor.send({ type: 'sessions.changed', sessions });
  const connect = () => {
    id++;
    if (!actor.getSnapshot().hasTag('admitting')) return actor.send({ type: 'net.connection', id, remote: `127.0.0.1:${40000 + id}` });
    sessions++;
    admitted++;
    if (sessions === 1 || sessions === maxConnections) report();
  };
  const closed = () => {
    sessions--;
    if (sessions === 0 || sessions === maxConnections - 1) report();
  };
  const state = () => actor.getSnapshot().value;
  return { actor, calls, clock, connect, closed, state, ctx: () => actor.getSnapshot().context, admitted: () => admitted };
}

function listening(max = 2) {
  const h = start(max);
  h.actor.send({ type: 'server.start' });
  h.actor.send({ type: 'net.listening', host: '127.0.0.1', port: 8028 });
  return h;
}

describe('server machine', () => {
  it('claims the address on start and is listening once Node says so', () => {
    const h = start();
    expect(h.state()).toBe('idle');
    h.actor.send({ type: 'server.start' });
    expect(h.state()).toBe('binding');
    expect(h.calls).toEqual(['listen']);
    h.actor.send({ type: 'net.listening', host: '127.0.0.1', port: 8028 });
    expect(h.state()).toEqual({ bound: 'listening' });
    expect(h.ctx().address).toEqual({ host: '127.0.0.1', port: 8028 });
    expect(h.calls).toContain('logListening');
  });

  it('fails with a clear sentence when the port is in use', () => {
    const h = start();
    h.actor.send({ type: 'server.start' });
    h.actor.send({ type: 'net.error', code: 'EADDRINUSE', message: 'listen EADDRINUSE: address already in use' });
    expect(h.state()).toBe('failed');
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.ctx().failure).toEqual({ code: 'ADDRESS_IN_USE', message: 'port 8028 is already in use on localhost' });
    expect(h.calls).toContain('logFailure');
  });

  it('serves up to the cap, turns the next client away, and has room again when one leaves', () => {
    const h = listening(2);
    h.connect();
    expect(h.state()).toEqual({ bound: 'accepting' });
    h.connect();
    expect(h.state()).toEqual({ bound: 'full' });
    h.connect();
    expect(h.state()).toEqual({ bound: 'full' });
    expect(h.admitted()).toBe(2);
    expect(h.calls).toContain('rejectConnection:SERVER_BUSY');
    expect(h.ctx()).toMatchObject({ sessions: 2, rejected: 1 });
    h.closed();
    expect(h.state()).toEqual({ bound: 'accepting' });
    h.closed();
    expect(h.state()).toEqual({ bound: 'listening' });
    expect(h.ctx().sessions).toBe(0);
  });

  it('goes straight to full with a cap of one', () => {
    const h = listening(1);
    h.connect();
    expect(h.state()).toEqual({ bound: 'full' });
    h.closed();
    expect(h.state()).toEqual({ bound: 'listening' });
  });

  it('keeps serving after an accept error', () => {
    const h = listening();
    h.actor.send({ type: 'net.error', code: 'EMFILE', message: 'accept EMFILE' });
    expect(h.state()).toEqual({ bound: 'listening' });
    expect(h.calls).toContain('logServerError');
  });

  it('on shutdown stops accepting, tells every connection, and stops when the listener closes', () => {
    const h = listening();
    h.connect();
    h.actor.send({ type: 'server.shutdown' });
    expect(h.state()).toEqual({ stopping: 'closingListener' });
    expect(h.calls.slice(-3)).toEqual(['logStopping', 'closeListener', 'notifyConnections']);
    h.connect();
    expect(h.calls.at(-1)).toBe('rejectConnection:SHUTTING_DOWN');
    h.closed();
    h.actor.send({ type: 'net.close' });
    expect(h.state()).toBe('stopped');
    expect(h.calls.filter((c) => c.startsWith('destroyConnections'))).toEqual([]);
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('waits for the last connection actor even when Node reports the listener closed first', () => {
    const h = listening();
    h.connect();
    h.connect();
    h.actor.send({ type: 'server.shutdown' });
    h.closed();
    // Node emits the listener's 'close' when the last socket is destroyed, which can come
    // before that socket's 'close' reaches its actor.
    h.actor.send({ type: 'net.close' });
    expect(h.state()).toEqual({ stopping: 'draining' });
    h.closed();
    expect(h.state()).toBe('stopped');
    expect(h.ctx().sessions).toBe(0);
    expect(h.calls.filter((c) => c.startsWith('destroyConnections'))).toEqual([]);
  });

  it('destroys what is left when the grace period runs out', () => {
    const h = listening();
    h.connect();
    h.actor.send({ type: 'server.shutdown' });
    h.clock.increment(999);
    expect(h.actor.getSnapshot().matches('stopping')).toBe(true);
    h.clock.increment(1);
    expect(h.state()).toBe('stopped');
    expect(h.calls).toContain('destroyConnections:grace');
  });

  it('forces the stop on a second shutdown', () => {
    const h = listening();
    h.connect();
    h.actor.send({ type: 'server.shutdown' });
    h.actor.send({ type: 'server.shutdown' });
    expect(h.state()).toBe('stopped');
    expect(h.calls).toContain('destroyConnections:forced');
  });
});
