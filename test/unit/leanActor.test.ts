// The lean session runner against XState's own actor: the same machine, the same events, the
// same states, actions in the same order, the same timers. Fake timers (vitest) drive both.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { assign, createActor, setup, type AnyStateMachine } from 'xstate';
import { connectionLimits, defaultConfig } from '../../src/core/config.js';
import { connectionMachine, type ConnectionEvent } from '../../src/greeting/connectionMachine.js';
import { LeanActor, startSession } from '../../src/core/leanActor.js';
import { ircSessionMachine, type IrcSessionEvent } from '../../src/irc/session/ircSessionMachine.js';
import { message } from '../../src/irc/wire/message.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const limits = connectionLimits({ ...defaultConfig, replyTimeoutMs: 1_000, replyQuietMs: 100, closeTimeoutMs: 500 });
const sideEffects = ['logOpened', 'sendGreeting', 'startReading', 'logReply', 'logSocketError', 'endSocket', 'destroySocket', 'logClosed'];

/** The connection machine with every side effect recorded, run by `run` (lean or XState). */
function recordedConnection(kind: 'lean' | 'xstate') {
  const calls: string[] = [];
  const machine = connectionMachine.provide({
    actions: Object.fromEntries(sideEffects.map((name) => [name, () => void calls.push(name)])),
  });
  const input = { id: 1, remote: '127.0.0.1:1', limits };
  const actor = kind === 'lean' ? new LeanActor(machine, input) : createActor(machine, { input });
  const states: string[] = [];
  let completed = 0;
  actor.subscribe({ next: (s) => void states.push(JSON.stringify(s.value)), complete: () => void completed++, error: () => {} });
  return { actor, calls, states, completed: () => completed };
}

const scripts: Array<{ name: string; steps: Array<ConnectionEvent | number> }> = [
  { name: 'a reply', steps: [{ type: 'socket.written' }, { type: 'socket.data', bytes: Buffer.from('hi\n') }, { type: 'socket.close' }] },
  { name: 'a partial reply, then quiet', steps: [{ type: 'socket.written' }, { type: 'socket.data', bytes: Buffer.from('h') }, 50, { type: 'socket.data', bytes: Buffer.from('i') }, 100, { type: 'socket.close' }] },
  { name: 'silence until the deadline, then the close timeout', steps: [{ type: 'socket.written' }, 1_000, 500, { type: 'socket.close' }] },
  { name: 'a shutdown while greeting', steps: [{ type: 'server.shutdown' }, { type: 'socket.close' }] },
  { name: 'a reset', steps: [{ type: 'socket.written' }, { type: 'socket.error', code: 'ECONNRESET', message: 'reset' }, { type: 'socket.close' }] },
  { name: 'events after the end are ignored', steps: [{ type: 'socket.close' }, { type: 'socket.written' }, 5_000] },
];

describe('LeanActor', () => {
  it.each(scripts)('runs the connection machine as createActor does: $name', ({ steps }) => {
    const runs = (['lean', 'xstate'] as const).map((kind) => {
      const r = recordedConnection(kind);
      r.actor.start();
      for (const step of steps) {
        if (typeof step === 'number') vi.advanceTimersByTime(step);
        else r.actor.send(step);
      }
      const s = r.actor.getSnapshot();
      return { calls: r.calls, states: r.states, status: s.status, value: s.value, context: { ...s.context, limits: null }, completed: r.completed() };
    });
    expect(runs[0]!.calls.length).toBeGreaterThan(2);
    expect(runs[0]).toEqual(runs[1]);
    // Nothing left scheduled once the machine is done.
    if (runs[0]!.status === 'done') expect(vi.getTimerCount()).toBe(0);
  });

  // The IRC session machine: `always` transitions (the per-IP check, registration completing),
  // re-entered states (`active` on every command), delayed events (registration deadline,
  // PINGs, the close timeout, nick enforcement's raise and cancel) and both final paths.
  const ircLimits = { registrationTimeoutMs: 5_000, pingIntervalMs: 1_000, pingTimeoutMs: 500, closeTimeoutMs: 300, nickEnforceGraceMs: 2_000 };
  const ircEffects = [
    'logOpened', 'sendConnectNotice', 'startReading', 'runCommand', 'replyNotRegistered', 'refusePassword',
    'welcome', 'startRelay', 'sendPing', 'depart', 'endSocket', 'destroySocket', 'enforceNick', 'logSocketError', 'logClosed',
  ];
  const line = (command: string, ...params: string[]): IrcSessionEvent => ({ type: 'irc.message', message: message(command, ...params) });
  const registration: IrcSessionEvent[] = [line('NICK', 'a'), { type: 'irc.nickSet' }, line('USER', 'a', '0', '*', 'A'), { type: 'irc.userSet' }];
  const ircScripts: Array<{ name: string; overIpLimit?: boolean; passwordRequired?: boolean; steps: Array<IrcSessionEvent | number> }> = [
    { name: 'registers, chats, is PINGed, answers, then quits', steps: [...registration, 400, line('PRIVMSG', '#a', 'hi'), 1_000, line('PONG', 'x'), 900, { type: 'irc.quit', reason: 'Quit: bye' }, { type: 'socket.close' }] },
    { name: 'CAP held open, then a ping timeout and the close timeout', steps: [{ type: 'irc.capHeld' }, ...registration, line('JOIN', '#a'), { type: 'irc.capEnded' }, 1_000, 500, 300, { type: 'socket.close' }] },
    { name: 'never registers', steps: [line('PRIVMSG', '#a', 'early'), 5_000, { type: 'socket.close' }] },
    { name: 'over the per-IP limit', overIpLimit: true, steps: [{ type: 'socket.close' }] },
    { name: 'a wrong server password', passwordRequired: true, steps: [{ type: 'irc.passGiven', matches: false }, ...registration, { type: 'socket.close' }] },
    { name: 'a nick enforced after its grace, one cancelled', steps: [...registration, { type: 'irc.nickUnowned' }, 1_000, { type: 'irc.nickOwned' }, 2_000, { type: 'irc.nickUnowned' }, 2_000, line('PING', 'x'), { type: 'server.shutdown' }, { type: 'socket.close' }] },
    { name: 'relayed to another node, then lost', steps: [...registration, { type: 'irc.relayed', home: 2 }, 10_000, { type: 'relay.lost' }, 300, { type: 'socket.close' }] },
    { name: 'a flood, a reset, events after the end', steps: [...registration, { type: 'client.flood' }, { type: 'socket.error', code: 'ECONNRESET', message: 'reset' }, { type: 'socket.close' }, line('PRIVMSG', '#a', 'late'), 5_000] },
  ];

  it.each(ircScripts)('runs the IRC session machine as createActor does: $name', ({ steps, overIpLimit = false, passwordRequired = false }) => {
    const runs = (['lean', 'xstate'] as const).map((kind) => {
      const calls: string[] = [];
      const machine = ircSessionMachine.provide({
        actions: Object.fromEntries(ircEffects.map((name) => [name, ({ event }: { event: { type: string } }) => void calls.push(`${name}<${event.type}`)])),
      });
      const input = { id: 1, remote: '127.0.0.1:1', limits: ircLimits, overIpLimit, passwordRequired };
      const actor = kind === 'lean' ? new LeanActor(machine, input) : createActor(machine, { input });
      const states: string[] = [];
      let completed = 0;
      actor.subscribe({ next: (s) => void states.push(JSON.stringify(s.value)), complete: () => void completed++, error: () => {} });
      actor.start();
      for (const step of steps) {
        if (typeof step === 'number') vi.advanceTimersByTime(step);
        else actor.send(step);
      }
      const s = actor.getSnapshot();
      const { limits: _limits, ...context } = s.context;
      return { calls, states, status: s.status, value: s.value, context, completed, timers: vi.getTimerCount() };
    });
    expect(runs[0]!.calls.length).toBeGreaterThan(2);
    expect(runs[0]).toEqual(runs[1]);
  });

  it('defers the initial entry actions to start() and queues events sent before it', () => {
    const r = recordedConnection('lean');
    r.actor.send({ type: 'socket.written' });
    expect(r.calls).toEqual([]);
    r.actor.start();
    expect(r.calls).toEqual(['logOpened', 'sendGreeting', 'startReading']);
    expect(r.actor.getSnapshot().value).toEqual({ open: { awaitingReply: 'empty' } });
  });

  it('finishes the event being processed before one an action sends (run to completion)', () => {
    const order: string[] = [];
    const machine = setup({ types: { events: {} as { type: 'go' } | { type: 'next' } } }).createMachine({
      initial: 'a',
      states: {
        a: { on: { go: { target: 'b', actions: ({ self }) => { self.send({ type: 'next' }); order.push('sent next'); } } } },
        b: { entry: () => void order.push('entered b'), on: { next: 'c' } },
        c: { entry: () => void order.push('entered c') },
      },
    });
    const actor = new LeanActor(machine, undefined as never).start();
    actor.send({ type: 'go' });
    expect(order).toEqual(['sent next', 'entered b', 'entered c']);
    expect(actor.getSnapshot().value).toBe('c');
  });

  it('leaves a session whose action throws in status error, timers cancelled, error observers told', () => {
    const machine = setup({ types: { events: {} as { type: 'boom' } } }).createMachine({
      initial: 'a',
      states: { a: { after: { 1_000: 'b' }, on: { boom: { actions: () => { throw new Error('bad action'); } } } }, b: {} },
    });
    const actor = new LeanActor(machine, undefined as never);
    const errors: unknown[] = [];
    actor.subscribe({ error: (err) => void errors.push(err) });
    actor.start();
    expect(vi.getTimerCount()).toBe(1);
    actor.send({ type: 'boom' });
    expect(actor.getSnapshot().status).toBe('error');
    expect((errors[0] as Error).message).toBe('bad action');
    expect(vi.getTimerCount()).toBe(0);
    actor.send({ type: 'boom' }); // ignored: the session is over
    expect(errors).toHaveLength(1);
  });

  it('stop() cancels timers and completes observers', () => {
    const r = recordedConnection('lean');
    r.actor.start();
    expect(vi.getTimerCount()).toBe(1); // the reply deadline
    r.actor.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(r.completed()).toBe(1);
    expect(r.actor.getSnapshot().status).toBe('stopped');
  });

  it('keeps the context updates of assign actions', () => {
    const machine = setup({ types: { context: {} as { n: number }, events: {} as { type: 'inc' } } }).createMachine({
      context: { n: 0 },
      on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
    });
    const actor = new LeanActor(machine, undefined as never).start();
    for (let i = 0; i < 3; i++) actor.send({ type: 'inc' });
    expect(actor.getSnapshot().context.n).toBe(3);
  });

  it('runs sessions as real XState actors when an inspection observer is given', () => {
    const inspected: string[] = [];
    const actor = startSession(connectionMachine as AnyStateMachine, { id: 1, remote: 'r', limits }, (e) => void inspected.push(e.type));
    expect(actor).not.toBeInstanceOf(LeanActor);
    actor.start();
    expect(inspected).toContain('@xstate.snapshot');
    expect(startSession(connectionMachine as AnyStateMachine, { id: 2, remote: 'r', limits })).toBeInstanceOf(LeanActor);
  });
});

describe('the XState internals LeanActor stands in for', () => {
  // Recorded from xstate 5.33.3, the version package.json pins. If an upgrade changes these,
  // LeanActor (src/core/leanActor.ts) must be checked against the new transition functions
  // before the pin moves: this test is the alarm.
  const recorded = {
    scope: ['actionExecutor', 'defer', 'emit', 'id', 'logger', 'self', 'sessionId', 'stopChild', 'system'],
    system: ['_bookId', '_clock', '_logger', '_register', '_relay', '_sendInspectionEvent', '_set', '_snapshot', '_unregister', 'get', 'getAll', 'getSnapshot', 'inspect', 'scheduler', 'start'],
    scheduler: ['cancel', 'cancelAll', 'schedule'],
  };

  it('runs on the exact xstate version package.json pins', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync(new URL('../../node_modules/xstate/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(pkg.dependencies.xstate, 'xstate must be pinned exactly: LeanActor relies on its internals').toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed.version).toBe(pkg.dependencies.xstate);
  });

  it("finds XState's actor scope, system and scheduler shaped as recorded", () => {
    const actor = createActor(setup({}).createMachine({})) as unknown as {
      _actorScope: Record<string, unknown>;
      system: Record<string, unknown> & { scheduler: Record<string, unknown> };
    };
    const shape = {
      scope: Object.keys(actor._actorScope).sort(),
      system: Object.keys(actor.system).sort(),
      scheduler: Object.keys(actor.system.scheduler).sort(),
    };
    expect(shape, 'XState changed the actor scope LeanActor imitates: review src/core/leanActor.ts').toEqual(recorded);
  });

  it('gives the transition functions every member of the scope and scheduler', () => {
    const lean = new LeanActor(connectionMachine, { id: 1, remote: '', limits }) as unknown as Record<string, unknown> & {
      system: Record<string, unknown> & { scheduler: Record<string, unknown> };
    };
    for (const key of recorded.scope) expect(lean[key], `scope.${key}`).toBeDefined();
    for (const key of recorded.scheduler) expect(typeof lean.system.scheduler[key], `scheduler.${key}`).toBe('function');
    // What the transition functions reach on the system of an actor without children.
    for (const key of ['_bookId', '_relay', '_sendInspectionEvent', '_register', '_unregister', '_set', 'get', 'getAll']) {
      expect(typeof lean.system[key], `system.${key}`).toBe('function');
    }
  });
});
