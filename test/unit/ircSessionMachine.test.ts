// The IRC session machine on its own: fake side effects, a simulated clock, no sockets.
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { preRegistrationCommands } from '../../src/irc/commands/table.js';
import { ircSessionMachine, quitText, type IrcSessionInput } from '../../src/irc/session/ircSessionMachine.js';
import { message } from '../../src/irc/wire/message.js';

const limits = { registrationTimeoutMs: 10_000, pingIntervalMs: 1_000, pingTimeoutMs: 500, closeTimeoutMs: 300, nickEnforceGraceMs: 2_000 };

const effects = [
  'logOpened', 'sendConnectNotice', 'startReading', 'runCommand', 'replyNotRegistered', 'refusePassword',
  'welcome', 'sendPing', 'depart', 'endSocket', 'destroySocket', 'logSocketError', 'logClosed',
  'startRelay',
] as const;

function start(input: Partial<IrcSessionInput> = {}) {
  const calls: string[] = [];
  const ran: string[] = [];
  const actions: Record<string, (args: { event: { type: string; message?: { command: string } } }) => void> =
    Object.fromEntries(effects.map((name) => [name, () => void calls.push(name)]));
  actions.runCommand = ({ event }) => {
    calls.push('runCommand');
    ran.push(event.message!.command);
  };
  const clock = new SimulatedClock();
  const actor = createActor(ircSessionMachine.provide({ actions }), {
    input: { id: 3, remote: '127.0.0.1:5000', limits, overIpLimit: false, passwordRequired: false, ...input },
    clock,
  });
  actor.start();
  const line = (command: string, ...params: string[]) => actor.send({ type: 'irc.message', message: message(command, ...params) });
  const state = () => actor.getSnapshot().value;
  return { actor, calls, ran, clock, line, state, ctx: () => actor.getSnapshot().context };
}

function registered() {
  const h = start();
  h.actor.send({ type: 'irc.nickSet' });
  h.actor.send({ type: 'irc.userSet' });
  return h;
}

describe('IRC session machine', () => {
  it('sends the connect notice before it reads anything, then waits for registration', () => {
    const h = start();
    expect(h.calls).toEqual(['logOpened', 'sendConnectNotice', 'startReading']);
    expect(h.state()).toEqual({ open: { registering: 'waiting' } });
  });

  it('turns a client over the per-IP limit away without reading from it', () => {
    const h = start({ overIpLimit: true });
    expect(h.state()).toBe('quitting');
    expect(h.ctx().closeReason).toBe('tooManyFromIp');
    expect(h.calls).not.toContain('startReading');
    expect(quitText(h.ctx())).toBe('Too many connections from your IP address');
  });

  it('runs only the pre-registration commands before registration and answers 451 to the rest', () => {
    const h = start();
    for (const command of preRegistrationCommands) h.line(command.toLowerCase(), 'x');
    h.line('PRIVMSG', '#c', 'hi');
    h.line('JOIN', '#c');
    expect(h.ran).toEqual(preRegistrationCommands.map((c) => c.toLowerCase()));
    expect(h.calls.filter((c) => c === 'replyNotRegistered')).toHaveLength(2);
  });

  it('registers once NICK and USER are in, in either order, and welcomes once', () => {
    for (const order of [['irc.nickSet', 'irc.userSet'], ['irc.userSet', 'irc.nickSet']] as const) {
      const h = start();
      h.actor.send({ type: order[0] });
      expect(h.state()).toEqual({ open: { registering: 'waiting' } });
      h.actor.send({ type: order[1] });
      expect(h.state()).toEqual({ open: { registered: 'active' } });
      expect(h.calls.filter((c) => c === 'welcome')).toHaveLength(1);
    }
  });

  it('holds registration open while CAP is negotiated, and completes on CAP END', () => {
    const h = start();
    h.actor.send({ type: 'irc.capHeld' });
    h.actor.send({ type: 'irc.nickSet' });
    h.actor.send({ type: 'irc.userSet' });
    expect(h.state()).toEqual({ open: { registering: 'negotiating' } });
    h.actor.send({ type: 'irc.capEnded' });
    expect(h.state()).toEqual({ open: { registered: 'active' } });
  });

  it('requires a matching PASS when the server has a password', () => {
    const good = start({ passwordRequired: true });
    good.actor.send({ type: 'irc.passGiven', matches: true });
    good.actor.send({ type: 'irc.nickSet' });
    good.actor.send({ type: 'irc.userSet' });
    expect(good.state()).toEqual({ open: { registered: 'active' } });

    for (const pass of [false, null]) {
      const bad = start({ passwordRequired: true });
      if (pass !== null) bad.actor.send({ type: 'irc.passGiven', matches: pass });
      bad.actor.send({ type: 'irc.nickSet' });
      bad.actor.send({ type: 'irc.userSet' });
      expect(bad.state()).toBe('quitting');
      expect(bad.ctx().closeReason).toBe('badPassword');
      expect(bad.calls).toContain('refusePassword');
      expect(bad.calls).not.toContain('welcome');
    }
  });

  it('closes a client that does not register within the deadline', () => {
    const h = start();
    h.actor.send({ type: 'irc.nickSet' });
    h.clock.increment(limits.registrationTimeoutMs - 1);
    expect(h.state()).toEqual({ open: { registering: 'waiting' } });
    h.clock.increment(1);
    expect(h.state()).toBe('quitting');
    expect(quitText(h.ctx())).toBe('Registration timed out');
    expect(h.calls.slice(-2)).toEqual(['depart', 'endSocket']);
  });

  it('PINGs a quiet client, keeps one that answers, and closes one that does not', () => {
    const h = registered();
    h.clock.increment(limits.pingIntervalMs);
    expect(h.state()).toEqual({ open: { registered: 'pinged' } });
    expect(h.calls.at(-1)).toBe('sendPing');
    h.line('PONG', 'irc.localhost');
    expect(h.state()).toEqual({ open: { registered: 'active' } });
    h.clock.increment(limits.pingIntervalMs);
    h.clock.increment(limits.pingTimeoutMs);
    expect(h.state()).toBe('quitting');
    expect(quitText(h.ctx())).toBe('Ping timeout: 0.5 seconds');
  });

  it('restarts the quiet timer on every command', () => {
    const h = registered();
    for (let i = 0; i < 5; i++) {
      h.clock.increment(limits.pingIntervalMs - 100);
      h.line('PRIVMSG', '#c', 'still here');
    }
    expect(h.state()).toEqual({ open: { registered: 'active' } });
    expect(h.calls).not.toContain('sendPing');
  });

  it('leaves with the reason of each way out, then finishes on close', () => {
    const cases = [
      [{ type: 'irc.quit', reason: 'Quit: bye' }, 'quit', 'Quit: bye'],
      [{ type: 'client.flood' }, 'excessFlood', 'Excess Flood'],
      [{ type: 'client.readqExceeded' }, 'readqExceeded', 'ReadQ exceeded'],
      [{ type: 'irc.welcomeFailed', reason: 'The network is unreachable, try again shortly' }, 'welcomeFailed', 'The network is unreachable, try again shortly'],
      [{ type: 'client.sendqExceeded' }, 'sendqExceeded', 'SendQ exceeded'],
      [{ type: 'socket.end' }, 'clientEnded', 'Connection closed'],
      [{ type: 'socket.error', code: 'ECONNRESET', message: 'reset' }, 'socketError', 'Read error: ECONNRESET'],
      [{ type: 'server.shutdown' }, 'shutdown', 'Server shutting down'],
    ] as const;
    for (const [event, reason, text] of cases) {
      const h = registered();
      h.actor.send(event);
      expect(h.state()).toBe('quitting');
      expect(h.ctx().closeReason).toBe(reason);
      expect(quitText(h.ctx())).toBe(text);
      h.actor.send({ type: 'socket.close' });
      expect(h.actor.getSnapshot().status).toBe('done');
      expect(h.calls.slice(-2)).toEqual(['depart', 'logClosed']);
    }
  });

  it('relays a client whose user lives on another node: no commands, no timers, and each way out has its reason', () => {
    for (const [event, reason, text] of [
      [{ type: 'relay.ended' }, 'relayEnded', 'Connection closed'],
      [{ type: 'relay.lost' }, 'relayLost', 'Lost the server holding your session'],
      [{ type: 'socket.end' }, 'clientEnded', 'Connection closed'],
      [{ type: 'server.shutdown' }, 'shutdown', 'Server shutting down'],
    ] as const) {
      const h = registered();
      h.actor.send({ type: 'irc.relayed', home: 2 });
      expect(h.state()).toEqual({ open: 'relaying' });
      expect(h.calls.at(-1)).toBe('startRelay');
      // Not a user of this node: not registered here, never PINGed here, runs nothing here.
      expect(h.actor.getSnapshot().hasTag('registered')).toBe(false);
      h.clock.increment(limits.pingIntervalMs + limits.pingTimeoutMs + limits.registrationTimeoutMs);
      h.line('PRIVMSG', '#c', 'not run here');
      expect(h.state()).toEqual({ open: 'relaying' });
      expect(h.calls).not.toContain('sendPing');
      expect(h.ran).toEqual([]);
      h.actor.send(event);
      expect(h.state()).toBe('quitting');
      expect(h.ctx().closeReason).toBe(reason);
      expect(quitText(h.ctx())).toBe(text);
      h.actor.send({ type: 'socket.close' });
      expect(h.actor.getSnapshot().status).toBe('done');
    }
  });

  it('goes straight to closed when the socket closes under it, and still departs', () => {
    const h = registered();
    h.actor.send({ type: 'socket.close' });
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.ctx().closeReason).toBe('clientGone');
    expect(h.calls.slice(-2)).toEqual(['depart', 'logClosed']);
  });

  it('destroys a socket that does not close after the goodbye, and ignores commands while quitting', () => {
    const h = registered();
    h.actor.send({ type: 'irc.quit', reason: 'Client Quit' });
    h.line('PRIVMSG', '#c', 'too late');
    expect(h.ran).toEqual([]);
    h.clock.increment(limits.closeTimeoutMs);
    expect(h.calls.at(-1)).toBe('destroySocket');
  });
});
