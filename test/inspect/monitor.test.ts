// The monitor fed by real actors' inspection events (no sockets): counts, rows, history, bounds.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { ConnectionLimits } from '../../src/core/config.js';
import { Monitor } from '../../src/ops/inspect/monitor.js';
import { connectionMachine } from '../../src/greeting/connectionMachine.js';
import { serverMachine } from '../../src/core/serverMachine.js';

const limits: ConnectionLimits = { greeting: 'hi', maxReplyBytes: 64, replyTimeoutMs: 60_000, replyQuietMs: 60_000, closeTimeoutMs: 60_000 };
const enc = (s: string) => new TextEncoder().encode(s);

function connection(monitor: Monitor, id: number) {
  const actor = createActor(connectionMachine, { input: { id, remote: `127.0.0.1:${1000 + id}`, limits }, inspect: monitor.inspect });
  actor.start();
  return actor;
}

describe('Monitor', () => {
  it('follows the server state and its counters', () => {
    const monitor = new Monitor();
    const server = createActor(serverMachine, {
      input: { host: '127.0.0.1', port: 0, maxConnections: 1, shutdownGraceMs: 1_000 },
      inspect: monitor.inspect,
    });
    server.start();
    server.send({ type: 'server.start' });
    server.send({ type: 'net.listening', host: '127.0.0.1', port: 8028 });
    // The first client fills the only slot (the listener reports the count); the second is turned away.
    server.send({ type: 'sessions.changed', sessions: 1 });
    server.send({ type: 'net.connection', id: 2, remote: 'b' });
    const view = monitor.view();
    expect(view.server).toEqual({ state: 'bound.full', address: '127.0.0.1:8028', maxConnections: 1 });
    expect(view.counters.turnedAway).toBe(1);
  });

  it('counts live connections per state, lists them and keeps each one\'s transitions', () => {
    const monitor = new Monitor();
    const a = connection(monitor, 1);
    const b = connection(monitor, 2);
    a.send({ type: 'socket.written' });
    b.send({ type: 'socket.written' });
    b.send({ type: 'socket.data', bytes: enc('par') });
    const view = monitor.view();
    expect(view.counters).toMatchObject({ live: 2, accepted: 2, closed: 0 });
    expect(view.statesCount).toEqual({ 'open.awaitingReply.empty': 1, 'open.awaitingReply.partial': 1 });
    expect(view.live.map((r) => r.id).sort()).toEqual([1, 2]);
    const detail = monitor.connection(2)!;
    expect(detail.history.map((h) => [h.event, h.state])).toEqual([
      ['xstate.init', 'open.greeting'],
      ['socket.written', 'open.awaitingReply.empty'],
      ['socket.data', 'open.awaitingReply.partial'],
    ]);
  });

  it('moves a closed connection to the recent list with its reason, reply and error count', () => {
    const monitor = new Monitor();
    const a = connection(monitor, 1);
    a.send({ type: 'socket.written' });
    a.send({ type: 'socket.data', bytes: enc('<img src=x onerror=alert(1)>\n') });
    a.send({ type: 'socket.close' });
    const b = connection(monitor, 2);
    b.send({ type: 'socket.written' });
    b.send({ type: 'socket.error', code: 'ECONNRESET', message: 'reset' });
    b.send({ type: 'socket.close' });
    const view = monitor.view();
    expect(view.counters).toMatchObject({ live: 0, accepted: 2, closed: 2, errors: 1 });
    expect(view.recent.map((r) => [r.id, r.closeReason, r.reply])).toEqual([
      [2, 'socketError', null],
      [1, 'replied', '<img src=x onerror=alert(1)>'],
    ]);
    expect(monitor.connection(1)!.row.state).toBe('closed');
  });

  it('stays bounded: rows per view, closed connections remembered, history per connection', () => {
    const monitor = new Monitor({ maxRows: 5, recentClosed: 3, historyPerConnection: 2, maxReplyChars: 10 });
    for (let i = 1; i <= 20; i++) connection(monitor, i).send({ type: 'socket.written' });
    for (let i = 21; i <= 30; i++) {
      const c = connection(monitor, i);
      c.send({ type: 'socket.written' });
      c.send({ type: 'socket.data', bytes: enc(`${'y'.repeat(50)}\n`) });
      c.send({ type: 'socket.close' });
    }
    const chatty = connection(monitor, 31);
    chatty.send({ type: 'socket.written' });
    for (let i = 0; i < 20; i++) chatty.send({ type: 'socket.data', bytes: enc('x') });
    const view = monitor.view();
    expect(view.counters.live).toBe(21);
    expect(view.live).toHaveLength(5);
    expect(view.live[0]!.id).toBe(31);
    expect(view.recent).toHaveLength(3);
    expect(view.recent[0]!.reply).toBe('y'.repeat(10));
    // Twenty chunks into `partial` are one transition; the cap keeps the last two.
    expect(monitor.connection(31)!.history.map((h) => h.state)).toEqual(['open.awaitingReply.empty', 'open.awaitingReply.partial']);
    expect(monitor.connection(21)).toBeNull();
  });
});
