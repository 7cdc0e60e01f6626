// The connection machine on its own: fake side effects, a simulated clock, no sockets.
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import type { ConnectionLimits } from '../../src/core/config.js';
import { connectionMachine, goodbyeLine } from '../../src/greeting/connectionMachine.js';

const limits: ConnectionLimits = {
  greeting: "Hey What's up?",
  maxReplyBytes: 16,
  replyTimeoutMs: 1_000,
  replyQuietMs: 100,
  closeTimeoutMs: 500,
};

const effects = [
  'logOpened', 'sendGreeting', 'startReading', 'logReply', 'logSocketError', 'endSocket', 'destroySocket', 'logClosed',
] as const;

function start() {
  const calls: string[] = [];
  const actions = Object.fromEntries(effects.map((name) => [name, () => void calls.push(name)]));
  const clock = new SimulatedClock();
  const actor = createActor(connectionMachine.provide({ actions }), {
    input: { id: 7, remote: '127.0.0.1:5000', limits },
    clock,
  });
  actor.start();
  const data = (s: string) => actor.send({ type: 'socket.data', bytes: new TextEncoder().encode(s) });
  const state = () => actor.getSnapshot().value;
  return { actor, calls, clock, data, state, ctx: () => actor.getSnapshot().context };
}

function greeted() {
  const h = start();
  h.actor.send({ type: 'socket.written' });
  return h;
}

describe('connection machine', () => {
  it('greets first and does not read until the greeting is written', () => {
    const h = start();
    expect(h.state()).toEqual({ open: 'greeting' });
    expect(h.calls).toEqual(['logOpened', 'sendGreeting']);
    h.actor.send({ type: 'socket.written' });
    expect(h.state()).toEqual({ open: { awaitingReply: 'empty' } });
    expect(h.calls).toContain('startReading');
  });

  it('takes the first line as the reply, logs it, ends the socket and finishes on close', () => {
    const h = greeted();
    h.data('Hello there\r\nmore\n');
    expect(h.state()).toBe('closing');
    expect(h.ctx()).toMatchObject({ reply: 'Hello there', closeReason: 'replied' });
    expect(h.calls.slice(-2)).toEqual(['logReply', 'endSocket']);
    expect(goodbyeLine(h.ctx())).toBeNull();
    h.actor.send({ type: 'socket.close' });
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.calls.at(-1)).toBe('logClosed');
  });

  it('takes bytes with no newline as the reply once the client goes quiet', () => {
    const h = greeted();
    h.data('Hel');
    h.clock.increment(60);
    h.data('lo');
    h.clock.increment(60);
    expect(h.state()).toEqual({ open: { awaitingReply: 'partial' } });
    h.clock.increment(40);
    expect(h.state()).toBe('closing');
    expect(h.ctx().reply).toBe('Hello');
  });

  it('keeps a total reply deadline that trickled bytes do not reset', () => {
    const h = greeted();
    // One byte every 90 ms: never quiet for replyQuietMs (100), never over maxReplyBytes (16).
    for (let t = 0; t < 1_000; t += 90) {
      expect(h.state()).not.toBe('closing');
      h.data('x');
      h.clock.increment(90);
    }
    expect(h.state()).toBe('closing');
    expect(h.ctx().closeReason).toBe('replyTimeout');
    expect(h.ctx().reply).toBeNull();
    expect(goodbyeLine(h.ctx())).toBe('error REPLY_TIMEOUT: no reply within 1000 ms\n');
  });

  it('times out a client that never sends anything, even before the greeting is written', () => {
    const h = start();
    h.clock.increment(1_000);
    expect(h.state()).toBe('closing');
    expect(h.ctx().closeReason).toBe('replyTimeout');
  });

  it('refuses a reply over maxReplyBytes and forgets what it buffered', () => {
    const h = greeted();
    h.data('0123456789');
    h.data('0123456789');
    expect(h.state()).toBe('closing');
    expect(h.ctx()).toMatchObject({ closeReason: 'replyTooLong', reply: null });
    expect(h.ctx().buffered.length).toBe(0);
    expect(goodbyeLine(h.ctx())).toBe('error REPLY_TOO_LONG: reply is longer than 16 bytes\n');
  });

  it('takes what arrived as the reply when the client ends its side', () => {
    const h = greeted();
    h.data('bye');
    h.actor.send({ type: 'socket.end' });
    expect(h.ctx()).toMatchObject({ reply: 'bye', closeReason: 'replied' });
  });

  it('closes quietly when the client ends its side having sent nothing', () => {
    const h = greeted();
    h.actor.send({ type: 'socket.end' });
    expect(h.state()).toBe('closing');
    expect(h.ctx().closeReason).toBe('clientEnded');
    expect(h.calls).not.toContain('logReply');
  });

  it('finishes at once when the socket closes under it', () => {
    const h = start();
    h.actor.send({ type: 'socket.close' });
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.ctx().closeReason).toBe('clientGone');
    expect(h.calls).not.toContain('endSocket');
  });

  it('records a socket error, then waits for the close that follows it', () => {
    const h = greeted();
    h.actor.send({ type: 'socket.error', code: 'ECONNRESET', message: 'read ECONNRESET' });
    expect(h.state()).toBe('closing');
    expect(h.ctx()).toMatchObject({ closeReason: 'socketError', socketErrorCode: 'ECONNRESET' });
    expect(h.calls).toContain('logSocketError');
    h.actor.send({ type: 'socket.error', code: 'EPIPE', message: 'second error is swallowed' });
    expect(h.ctx().socketErrorCode).toBe('ECONNRESET');
    h.actor.send({ type: 'socket.close' });
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('says goodbye on server shutdown', () => {
    const h = greeted();
    h.data('half a rep');
    h.actor.send({ type: 'server.shutdown' });
    expect(h.state()).toBe('closing');
    expect(goodbyeLine(h.ctx())).toBe('error SHUTTING_DOWN: server is shutting down, goodbye\n');
  });

  it('destroys a socket that does not close within closeTimeoutMs, and ignores further bytes', () => {
    const h = greeted();
    h.data('hi\n');
    h.data('flood\n'.repeat(100));
    expect(h.ctx().reply).toBe('hi');
    h.clock.increment(499);
    expect(h.calls).not.toContain('destroySocket');
    h.clock.increment(1);
    expect(h.calls).toContain('destroySocket');
    h.actor.send({ type: 'socket.close' });
    expect(h.actor.getSnapshot().status).toBe('done');
  });
});
