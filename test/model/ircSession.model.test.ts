// Model-based tests of the IRC session machine, as for the greeting's connection machine:
// xstate/graph walks the REAL machine (timers appear as `xstate.after.<delay>.<stateId>` events)
// and lists its simple paths; each path is replayed against a real IRC server on port 0 by a raw
// TCP client. After every step the real session actor (observed through onConnectionActor) must
// have reached the model's snapshot, and the bytes on the wire must say so: the connect NOTICE
// first, 451 for a command not usable before registration, 001 exactly when the model enters
// `registered`, a PING when it enters `pinged`, `ERROR :Closing link: (...) [<reason>]` when it
// enters `quitting`, then the server's FIN; once registered, another member of its channel sees
// its QUIT with the same reason (the only witness when it stopped reading). The log must show
// opened / registered / closed (<reason>), one close per connection, and never a message body.
//
// How a model step becomes a real action. The machine hears about a command twice: first as
// `irc.message` (the adapter hands it the line; in `registering` that only runs it or answers
// 451), then as what the command handler found (`irc.nickSet`, `irc.userSet`, `irc.passGiven`,
// `irc.capHeld`, `irc.capEnded`, `irc.quit`). No client can send the second without the first,
// and the first changes neither the state nor the context that matters. So a model step
// `irc.nickSet` is replayed as the line `NICK tester`: the real actor then sees irc.message
// (same snapshot as before, removed by dedupe) followed by irc.nickSet, and its deduplicated
// trace is exactly the model's. The model's own `irc.message` steps are lines whose handler
// reports nothing: `PRIVMSG` while registering (451) and `PONG` in `pinged` (back to `active`).
// Since `irc.message` in `registering` leaves the snapshot as it was, the graph would drop it
// as a loop; the state key below marks a state reached by `irc.message` so that it is a step
// of its own, and its witness is on the wire (the 451).
//
// What is explored, and where (all of it is in `realizable`, with the reason for each cut):
//   - registration without a server password: every order of NICK, USER and CAP LS ... CAP END,
//     each followed by QUIT once registered; every way out from the untouched session and from
//     the one with CAP held open; QUIT from every registration state; the registration timeout
//     with nothing sent, with CAP held and nothing else, and with CAP held after NICK and USER;
//   - registration with a server password: every order of PASS (right, wrong, missing, wrong
//     then right), NICK, USER and CAP, ending registered (then QUIT) or refused (Bad password);
//   - the registered session (after NICK, USER and JOIN #model, with a second client in #model):
//     every way out of `active` and `pinged` (but QUIT from `pinged`: a QUIT line is first a
//     command that takes it back to `active`), the ping interval, PONG, the ping timeout;
//   - a client over the per-IP limit, turned away with ERROR before it is read.
// Every path of each exploration is replayed (each is a prefix of a complete one: checked).
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createActor, getNextSnapshot, type SnapshotFrom } from 'xstate';
import { getSimplePaths } from 'xstate/graph';
import { type ServerHandle } from '../../src/core/listener.js';
import { defaultConfig, type IrcConfig } from '../../src/core/config.js';
import { humanLogger } from '../../src/core/logger.js';
import {
  ircSessionMachine,
  type IrcCloseReason,
  type IrcSessionEvent,
  type IrcSessionInput,
  type IrcSessionLimits,
} from '../../src/irc/session/ircSessionMachine.js';
import { parseMessage, type IrcMessage } from '../../src/irc/wire/message.js';
import { afterEvent, dedupe, machineEventKeys, valuePath } from './graph.js';
import { serve } from '../helpers.js';

type Snapshot = SnapshotFrom<typeof ircSessionMachine>;

// Short enough for the file to run in seconds, wide enough that a loaded 2-core machine does
// not let a timer fire between two steps that the path says come first: a registration path of
// up to seven lines has 2.5 s (1.5 s let the deadline win once with two suites sharing the
// machine), a step in `active` or `pinged` 1.2 s (800 ms let a ping timeout win once with the
// whole suite, a browser test and a benchmark sharing the machine).
const limits: IrcSessionLimits = {
  registrationTimeoutMs: 2_500,
  pingIntervalMs: 1_200,
  pingTimeoutMs: 1_200,
  closeTimeoutMs: 1_000,
  nickEnforceGraceMs: 30_000,
};
// Budgets for the flood and sendq steps (see `floodBytes` and `overflowOutput`). Flood control
// is loose (40 lines at once, 40 a second) so that fakelag never delays a registration line past
// the registration timeout; a flood is recognised by recvqBytes alone.
const ircLimits: Partial<IrcConfig> = {
  registrationTimeoutMs: limits.registrationTimeoutMs,
  pingIntervalMs: limits.pingIntervalMs,
  pingTimeoutMs: limits.pingTimeoutMs,
  recvqBytes: 16 * 1024,
  sendqBytes: 4 * 1024,
  floodBurstLines: 40,
  floodRateLinesPerSecond: 40,
};
// A path that overflows a sendq (each path has a server of its own, and such a path never
// floods) needs megabytes of commands through: no fakelag, and a recvq that holds a whole read.
// Pushing them through takes ~1 s here and more on a loaded machine, so neither the
// registration deadline nor the ping timeout (which no such path waits for: it ends in
// sendqExceeded) may fire first, from `registering` or from `pinged`; nor may the ping
// interval take `active` to `pinged` in the middle (1.2 s did, twice, with two suites at once).
// A path that waits for the interval as a step waits 3 s instead.
const ircLimitsForOutput: Partial<IrcConfig> = {
  ...ircLimits,
  registrationTimeoutMs: 20_000,
  pingIntervalMs: 3_000,
  pingTimeoutMs: 20_000,
  recvqBytes: 1024 * 1024,
  floodBurstLines: 1_000_000,
  floodRateLinesPerSecond: 1_000_000,
};
const serverName = defaultConfig.irc.serverName;
const host = '127.0.0.1';
const nick = 'tester';
/** In every body the client sends (QUIT, PRIVMSG, PASS): it must never reach the log. */
const secret = 'Zq7body';
const password = `pw-${secret}`;

/**
 * What the client reads in `ERROR :Closing link: (...) [<text>]`, and what those sharing a channel
 * with it read in its QUIT; spelled out here rather than taken from the machine's quitText, so
 * that a changed text is caught (clients and bots parse some of these, e.g. `Ping timeout: <n>
 * seconds`). `clientGone` cannot happen from a client (see the reasons test).
 */
const goodbyeText: Partial<Record<IrcCloseReason, string>> = {
  quit: `Quit: see you ${secret}`,
  registrationTimeout: 'Registration timed out',
  pingTimeout: `Ping timeout: ${Math.round(limits.pingTimeoutMs / 100) / 10} seconds`,
  sendqExceeded: 'SendQ exceeded',
  excessFlood: 'Excess Flood',
  badPassword: 'Bad password',
  tooManyFromIp: 'Too many connections from your IP address',
  clientEnded: 'Connection closed',
  socketError: 'Read error: ECONNRESET',
  shutdown: 'Server shutting down',
};

/** A model event, the line (if any) that makes a real client cause it, and a name for it. */
type ModelEvent = IrcSessionEvent & { label: string; line?: string };

const after = {
  registrationTimeout: afterEvent(ircSessionMachine, 'ircSession.open.registering', 'registrationTimeout'),
  pingInterval: afterEvent(ircSessionMachine, 'ircSession.open.registered.active', 'pingInterval'),
  pingTimeout: afterEvent(ircSessionMachine, 'ircSession.open.registered.pinged', 'pingTimeout'),
};
const afterStep = (type: string, label: string) => ({ type, label }) as unknown as ModelEvent;
const command = (line: string): IrcMessage => parseMessage(line)!;
const lineEvent = (label: string, line: string): ModelEvent => ({ type: 'irc.message', message: command(line), line, label });

const ev = {
  privmsg: lineEvent('PRIVMSG (451)', `PRIVMSG ${nick} :hello ${secret}`),
  pong: lineEvent('PONG', `PONG :${serverName}`),
  join: lineEvent('JOIN #model', 'JOIN #model'),
  nick: { type: 'irc.nickSet', line: `NICK ${nick}`, label: 'NICK' },
  user: { type: 'irc.userSet', line: 'USER u 0 * :Model Tester', label: 'USER' },
  passRight: { type: 'irc.passGiven', matches: true, line: `PASS ${password}`, label: 'PASS (right)' },
  passWrong: { type: 'irc.passGiven', matches: false, line: `PASS wrong-${secret}`, label: 'PASS (wrong)' },
  capLs: { type: 'irc.capHeld', line: 'CAP LS 302', label: 'CAP LS' },
  capEnd: { type: 'irc.capEnded', line: 'CAP END', label: 'CAP END' },
  // The QUIT handler turns `QUIT :see you` into the reason `Quit: see you`.
  quit: { type: 'irc.quit', reason: `Quit: see you ${secret}`, line: `QUIT :see you ${secret}`, label: 'QUIT' },
  flood: { type: 'client.flood', label: 'flood' },
  sendq: { type: 'client.sendqExceeded', label: 'output past sendq' },
  end: { type: 'socket.end', label: 'client FIN' },
  reset: { type: 'socket.error', code: 'ECONNRESET', message: 'read ECONNRESET', label: 'client RST' },
  close: { type: 'socket.close', label: 'closed' },
  shutdown: { type: 'server.shutdown', label: 'server shutdown' },
  registrationTimeout: afterStep(after.registrationTimeout, 'registration timeout'),
  pingInterval: afterStep(after.pingInterval, 'ping interval'),
  pingTimeout: afterStep(after.pingTimeout, 'ping timeout'),
} satisfies Record<string, ModelEvent>;
const candidates: ModelEvent[] = Object.values(ev);

/** The ways out of `open`: one transition each on `open`, the same from every substate. */
const leaving: ModelEvent[] = [ev.quit, ev.flood, ev.sendq, ev.end, ev.reset, ev.shutdown];

/**
 * Event keys of the machine that are never a model step here, and why. Their transitions are
 * covered by test/unit/ircSessionMachine.test.ts.
 */
const unreachable: Record<string, string> = {
  // Account events need a second client or a registered account in the server's store, which
  // this model's single-client paths do not set up; the integration and unit tests drive them
  // (test/integration/accounts.test.ts: grace rename and GHOST; test/unit/irc/accounts.test.ts).
  'irc.killed': 'needs another client (GHOST, KILL) or a network ban; driven end to end in test/integration/accounts.test.ts and operators tests',
  'irc.nickUnowned': 'needs an account registered in the store for the nick; driven in test/integration/accounts.test.ts (grace rename)',
  'irc.nickOwned': 'sent by every welcome and NICK without changing state (a cancel of no timer); its effect is tested where nickUnowned is',
  'timer.nickEnforce': 'fires nickEnforceGraceMs after irc.nickUnowned; driven in test/integration/accounts.test.ts with --nick-grace 500',
  'irc.welcomeFailed': 'needs the network state or the store to fail during the welcome; driven in test/redis/failure.test.ts (Redis killed between NICK and USER)',
  'client.readqExceeded': 'one line past readqBytes (16 KiB of one line) is a long step for every path it would end; driven in test/hostile/irc.hostile.test.ts (a line without end) and test/unit/ircFramer.test.ts',
  // Multiclient across nodes needs a network (Redis) and an account whose user lives on another
  // node; the transitions are in test/unit/ircSessionMachine.test.ts.
  'irc.relayed': "needs a second node holding the account's user; driven end to end in test/redis/multiclient.test.ts and test/redis/history.test.ts",
  'relay.ended': "the home node closing a relayed client (a flood there); driven in test/redis/multiclient.test.ts",
  'relay.lost': 'the home node dying; driven in test/redis/multiclient.test.ts (SIGKILL of the home)',
  'after:closeTimeout':
    'destroys the socket without changing state, so it is never a step of its own; the socket.close that follows is. ' +
    'It is replayed: after `output past sendq` the client never closes, and the server must give up on it.',
};

/**
 * Closing: the server has said ERROR and ended its side. From the client a close in `open` is
 * always a FIN (`socket.end`) or a RST (`socket.error`) first, so `socket.close` is realizable
 * only here, where the server's own FIN is what leads to it.
 */
function closing(s: Snapshot): ModelEvent[] {
  return s.matches('quitting') ? [ev.close] : [];
}

/** Registration, with or without a server password. */
function registering(withPassword: boolean) {
  return (s: Snapshot): ModelEvent[] => {
    if (!s.matches('open')) return closing(s);
    // The registered session does not depend on how it was reached (its context is the same
    // after every order), so its paths are explored once, in `session` below; here each order
    // is followed by QUIT. Exploring them after every order would replay the same 18-path tail
    // after each of the 79 orders that register (11 without a password, 68 with): ~1,400 paths.
    if (s.matches({ open: 'registered' })) return [ev.quit];
    const { hasNick, hasUser, passMatches } = s.context;
    const untouched = !hasNick && !hasUser && passMatches === null;
    const events: ModelEvent[] = [ev.nick, ev.user, ev.capLs, ev.capEnd];
    if (withPassword) {
      // PASS once (right or wrong), plus a second PASS (right) after a wrong one when nothing else
      // was sent yet: the last PASS counts. PASS again in every state would multiply the orders
      // (780 paths instead of 112) without anything new for the machine to decide.
      if (passMatches === null) events.push(ev.passRight, ev.passWrong);
      if (passMatches === false && !hasNick && !hasUser) events.push(ev.passRight);
      // The ways out are the same transitions as without a password (none of them looks at
      // passMatches); they are explored there. With a password every path ends registered
      // (then QUIT) or refused with `Bad password`.
    } else {
      // The ways out of `open` are one transition each, defined on `open`: taken from the
      // untouched session and from the one holding CAP open with nothing else given, and QUIT
      // (the one a client chooses, whose ERROR shows what it has given) from every state.
      // Every way out from every registration state: 137 paths instead of 46, for the same
      // transitions.
      if (untouched) events.push(...leaving, ev.registrationTimeout);
      else events.push(ev.quit);
      // The registration deadline runs from accept and is not reset: taken with nothing sent
      // (above), with CAP held and nothing else (above: untouched), and with CAP held open
      // after NICK and USER, the case of a client that never sends CAP END.
      if (hasNick && hasUser) events.push(ev.registrationTimeout);
      // A command not usable before registration (451), once: after NICK (the reply names the
      // nick) and before anything else, so the duplicated tail stays short. In other states it
      // is the same self-transition.
      if (hasNick && !hasUser && s.matches({ open: { registering: 'waiting' } })) events.push(ev.privmsg);
      // Without a password PASS always matches, and passMatches is read only when a password
      // is required: PASS changes nothing this machine decides, so it is left to the other run.
    }
    return events.filter((e) => s.can(e));
  };
}

/** The registered session, from `active` right after NICK, USER and JOIN #model. */
function session(s: Snapshot): ModelEvent[] {
  if (!s.matches('open')) return closing(s);
  const pinged = s.matches({ open: { registered: 'pinged' } });
  const events: ModelEvent[] = [...leaving, ev.pingInterval, ev.pingTimeout];
  // A command in `pinged` (PONG) takes the client back to `active`. In `active` a command
  // re-enters `active`: the same state, only its PING timer restarts, a difference in timing
  // that a replay cannot tell from a loaded machine's scheduling; so it is not offered there.
  if (pinged) events.push(ev.pong);
  // `irc.quit` straight from `pinged` cannot happen: QUIT is a line, and any line in `pinged` is
  // first an `irc.message` that takes the session back to `active`, where the QUIT handler's
  // `irc.quit` then arrives. That real sequence is the path PONG → QUIT.
  return events.filter((e) => s.can(e) && !(pinged && e === ev.quit));
}

/** The state, plus what the machine decides on. */
const stateKey = (s: Snapshot) =>
  JSON.stringify([valuePath(s.value), s.context.hasNick, s.context.hasUser, s.context.passMatches, s.context.closeReason]);
// A state reached by `irc.message` is a vertex of its own (see the top of the file).
const graphKey = (s: Snapshot, e?: { type: string }) => (e?.type === 'irc.message' ? `${stateKey(s)} after a command` : stateKey(s));

const baseInput: IrcSessionInput = { id: 1, remote: `${host}:1`, limits, overIpLimit: false, passwordRequired: false };

interface Exploration {
  name: string;
  input: IrcSessionInput;
  /** Steps replayed before the graph's starting state (they are part of every path). */
  prefix: ModelEvent[];
  realizable: (s: Snapshot) => ModelEvent[];
  /** Complete paths this exploration found when the test was written: a floor, not a target. */
  atLeast: number;
}

const explorations: Exploration[] = [
  { name: 'no password', input: baseInput, prefix: [], realizable: registering(false), atLeast: 40 },
  { name: 'password', input: { ...baseInput, passwordRequired: true }, prefix: [], realizable: registering(true), atLeast: 80 },
  // JOIN: another client in the channel sees its QUIT, with the reason, however it leaves.
  { name: 'registered', input: baseInput, prefix: [ev.nick, ev.user, ev.join], realizable: session, atLeast: 18 },
  { name: 'over the per-IP limit', input: { ...baseInput, overIpLimit: true }, prefix: [], realizable: closing, atLeast: 1 },
];

const initialOf = (input: IrcSessionInput) => createActor(ircSessionMachine, { input }).getSnapshot();
const advance = (s: Snapshot, e: ModelEvent) => getNextSnapshot(ircSessionMachine, s, e as IrcSessionEvent);

interface PlannedPath {
  exploration: Exploration;
  /** Prefix and path: every step from the fresh session. */
  events: ModelEvent[];
  /** What the client does at each step of the explored path (after the prefix). */
  steps: string[];
  name: string;
  complete: boolean;
}

const planned: PlannedPath[] = explorations.flatMap((exploration) => {
  const fromState = exploration.prefix.reduce(advance, initialOf(exploration.input));
  const paths = getSimplePaths(ircSessionMachine, {
    fromState,
    events: exploration.realizable,
    serializeState: graphKey,
    serializeEvent: (e) => (e as ModelEvent).label,
  });
  return paths.map((p) => {
    const explored = p.steps.slice(1).map((s) => s.event as ModelEvent);
    const events = [...exploration.prefix, ...explored];
    const name = `${exploration.name}: ${events.map((e) => e.label).join(' → ')}`;
    return { exploration, events, steps: explored.map((e) => e.label), name, complete: p.state.status === 'done' };
  });
});
const replayed = planned.filter((p) => p.complete);

// Real sockets on a 2-core machine: at most this many paths (each with its own server) at once.
const maxReplays = 4;
let freeSlots = maxReplays;
const waiting: Array<() => void> = [];
async function withSlot<T>(run: () => Promise<T>): Promise<T> {
  if (freeSlots > 0) freeSlots--;
  else await new Promise<void>((r) => waiting.push(r));
  try {
    return await run();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else freeSlots++;
  }
}

/** Wakes waiters whenever anything they might be waiting for changed (bytes, snapshots). */
class Changes {
  private readonly waiters = new Set<() => void>();
  notify(): void {
    for (const w of [...this.waiters]) w();
  }
  until(check: () => boolean, what: () => string, timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check()) return;
        this.waiters.delete(test);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`timed out waiting for ${what()}`));
      }, timeoutMs);
      this.waiters.add(test);
      test();
    });
  }
}

interface Peer {
  socket: net.Socket;
  text(): string;
  /** Whole lines received so far, without their CRLF. */
  lines(): string[];
  /** The server ended its side (FIN). */
  ended: boolean;
  closed: boolean;
  write(line: string): void;
}

/** `answerPings`: a client that answers the server's PINGs, so that it stays for the whole path. */
function connectPeer(port: number, changes: Changes, answerPings = false): Promise<Peer> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the client ends its side only when the path says so.
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const text = () => Buffer.concat(chunks).toString('utf8');
    const peer: Peer = {
      socket,
      text,
      lines: () => text().split('\r\n').slice(0, -1),
      ended: false,
      closed: false,
      write: (line) => void socket.write(`${line}\r\n`),
    };
    let answered = 0;
    socket.on('data', (c) => {
      chunks.push(c);
      if (answerPings) {
        const lines = peer.lines();
        for (; answered < lines.length; answered++) {
          const m = /^PING (.*)$/.exec(lines[answered]!);
          if (m) peer.write(`PONG ${m[1]}`);
        }
      }
      changes.notify();
    });
    socket.on('end', () => {
      peer.ended = true;
      changes.notify();
    });
    socket.on('close', () => {
      peer.closed = true;
      changes.notify();
    });
    socket.on('error', () => {});
    socket.once('connect', () => resolve(peer));
    socket.once('error', reject);
  });
}

interface Session {
  id: number;
  trace: Snapshot[];
  done: boolean;
}

/** Lines that parse to no command: whatever part of the flood runs first changes nothing. */
const floodBytes = `${' '.repeat(400)}\r\n`.repeat(100); // 40 KB, more than recvqBytes (16 KiB) at once
/**
 * Output past sendq: the client stops reading, and output for it is produced until its session
 * leaves `open`. The sendq counts what stays in the process once the kernel has taken what it
 * will, and on loopback the kernel takes megabytes (the server end's send buffer grows to
 * tcp_wmem's max, 4 MiB here), so the output comes in drained chunks until the session closes,
 * whatever the kernel's sizes. Before registration the output is its own: PONGs for PINGs with
 * long tokens (~90 KB per chunk).
 */
const pingChunk = Array.from({ length: 200 }, (_, i) => `PING :${String(i).padStart(3, '0')}${'x'.repeat(440)}\r\n`).join('');
/**
 * Once registered, it comes from another client: PRIVMSGs to it (~90 KB per chunk). Its own
 * lines would not do in `pinged`: any command first takes it back to `active`.
 */
const helperNick = 'helper';
const privmsgChunk = Array.from({ length: 200 }, () => `PRIVMSG ${nick} :${'y'.repeat(400)} ${secret}\r\n`).join('');
/** Gives up (and the step fails) past this much: something is not counting unread output. */
const maxOverflowBytes = 64 * 1024 * 1024;

/** Writes `chunk` to `socket`, as fast as it drains, until `done()`. */
async function overflowOutput(socket: net.Socket, chunk: string, done: () => boolean, changes: Changes): Promise<void> {
  let written = 0;
  while (!done()) {
    if (written > maxOverflowBytes) throw new Error(`no sendq overflow after ${written} bytes of commands`);
    written += chunk.length;
    if (socket.write(chunk)) continue;
    let drained = false;
    socket.once('drain', () => {
      drained = true;
      changes.notify();
    });
    await changes.until(() => drained || done(), () => 'the commands to drain or the session to leave `open`', 10_000);
  }
}

const keyOf = machineEventKeys(ircSessionMachine);
const eventKey = (e: ModelEvent) => keyOf.get(e.type) ?? e.type;

interface Replay {
  model: Snapshot[];
  trace: Snapshot[];
  lines: string[];
  id: number;
  remote: string;
  accepted: number;
  liveAtEnd: number;
}

async function replay(path: PlannedPath): Promise<Replay> {
  const { exploration, events } = path;
  const model: Snapshot[] = [initialOf(exploration.input)];
  for (const e of events) model.push(advance(model.at(-1)!, e));

  const changes = new Changes();
  const lines: string[] = [];
  const sessions = new Map<string, Session>(); // by remote address:port
  const handle: ServerHandle = serve(
    {
      ...defaultConfig,
      protocol: 'irc',
      host,
      port: 0,
      closeTimeoutMs: limits.closeTimeoutMs,
      shutdownGraceMs: 10_000,
      irc: {
        ...defaultConfig.irc,
        ...(events.includes(ev.sendq) ? ircLimitsForOutput : ircLimits),
        password: exploration.input.passwordRequired ? password : null,
        maxConnectionsPerIp: exploration.input.overIpLimit ? 1 : defaultConfig.irc.maxConnectionsPerIp,
      },
    },
    {
      logger: humanLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }),
      onConnectionActor: (actor) => {
        const first = actor.getSnapshot() as Snapshot;
        const s: Session = { id: first.context.id, trace: [], done: false };
        sessions.set(first.context.remote, s);
        actor.subscribe({
          next: (snapshot: Snapshot) => {
            s.trace.push(snapshot);
            changes.notify();
          },
          complete: () => {
            s.done = true;
            changes.notify();
          },
        });
      },
    },
  );
  const peers: Peer[] = [];
  const sessionOf = async (peer: Peer): Promise<Session> => {
    const remote = `${host}:${peer.socket.localPort}`;
    await changes.until(() => sessions.has(remote), () => `the session of ${remote}`);
    return sessions.get(remote)!;
  };
  try {
    const { port } = await handle.listening;

    // Over the per-IP limit: another client from the same address holds the only place.
    let holder: Peer | null = null;
    if (exploration.input.overIpLimit) {
      holder = await connectPeer(port, changes);
      peers.push(holder);
      const held = await sessionOf(holder);
      await changes.until(() => held.trace.some((s) => s.matches({ open: 'registering' })), () => 'the first client registering');
    }

    const client = await connectPeer(port, changes);
    peers.push(client);
    const real = await sessionOf(client);
    const remote = `${host}:${client.socket.localPort}`;

    // Once registered, a second client shares #model with this one: it sees this one's QUIT
    // (the reason in words, even when this one cannot read its ERROR), and it sends this one the
    // messages that overflow its sendq.
    let helper: Peer | null = null;
    if (events.includes(ev.join)) {
      helper = await connectPeer(port, changes, true);
      peers.push(helper);
      helper.write(`NICK ${helperNick}`);
      helper.write('USER h 0 * :Helper');
      helper.write('JOIN #model');
      const h = helper;
      await changes.until(() => h.lines().some((l) => l.startsWith(`:${helperNick}!`) && l.endsWith(' JOIN #model')), () => 'the helper in #model');
    }

    let cursor = 0;
    const realPath = () => dedupe(real.trace.map((s) => valuePath(s.value))).join(', ');
    const reached = async (i: number, timeoutMs = 5_000) => {
      const want = stateKey(model[i]!);
      await changes.until(
        () => real.trace.slice(cursor).some((s) => stateKey(s) === want),
        () => `${want}; real trace: ${realPath()}`,
        timeoutMs,
      );
      cursor += real.trace.slice(cursor).findIndex((s) => stateKey(s) === want);
    };
    const hasLine = (test: (l: string) => boolean) => client.lines().some(test);
    const count = (test: (l: string) => boolean) => client.lines().filter(test).length;
    const isWelcome = (l: string) => l.startsWith(`:${serverName} 001 ${nick} :Welcome`);
    const isPing = (l: string) => l === `PING ${serverName}`;
    const isNotRegistered = (l: string) => /^:\S+ 451 /.test(l);

    let clientEnded = false;
    let clientGone = false;
    /** False once the client stopped reading or reset: the bytes after that are not all there. */
    let wireComplete = true;
    let pings = 0;
    let notRegistered = 0;

    await reached(0);
    // The connect NOTICE comes first, before the client sends anything.
    await changes.until(() => client.lines().length > 0, () => 'the connect NOTICE');
    expect(client.lines()[0]).toBe(`:${serverName} NOTICE * :${defaultConfig.greeting}`);

    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const before = model[i]!;
      const next = model[i + 1]!;
      switch (eventKey(e)) {
        case 'irc.message':
        case 'irc.nickSet':
        case 'irc.userSet':
        case 'irc.passGiven':
        case 'irc.capHeld':
        case 'irc.capEnded':
        case 'irc.quit':
          client.write(e.line!);
          break;
        case 'client.flood':
          client.socket.write(floodBytes);
          break;
        case 'client.sendqExceeded': {
          // It stops reading, for good: it never reads its goodbye either.
          client.socket.pause();
          wireComplete = false;
          const left = () => !real.trace.at(-1)!.matches('open');
          if (before.matches({ open: 'registered' })) await overflowOutput(helper!.socket, privmsgChunk, left, changes);
          else await overflowOutput(client.socket, pingChunk, left, changes);
          break;
        }
        case 'socket.end':
          client.socket.end();
          clientEnded = true;
          break;
        case 'socket.error':
          client.socket.resetAndDestroy();
          clientGone = true;
          wireComplete = false;
          break;
        case 'socket.close':
          // After our FIN or RST the close follows by itself. A client whose output overflowed
          // never closes: the server must give up on it after closeTimeoutMs. Others close once
          // they have seen the server's FIN.
          if (!clientEnded && !clientGone && before.context.closeReason !== 'sendqExceeded') {
            await changes.until(() => client.ended, () => "the server's FIN");
            client.socket.end();
            clientEnded = true;
          }
          break;
        case 'server.shutdown':
          handle.shutdown();
          break;
        case 'after:registrationTimeout':
        case 'after:pingInterval':
        case 'after:pingTimeout':
          break; // stay quiet
        default:
          throw new Error(`no real action for ${e.type}`);
      }
      await reached(i + 1);
      // A client that reset has nothing more to read; one that stopped reading never gets its
      // goodbye (it waits behind megabytes it has not read until the server destroys the socket).
      if (!wireComplete) continue;

      // On the wire, after this step.
      if (e.type === 'irc.message' && before.matches({ open: 'registering' })) {
        notRegistered++;
        const n = notRegistered;
        await changes.until(() => count(isNotRegistered) === n, () => `451 #${n}; got ${JSON.stringify(client.text())}`);
        expect(client.lines().filter(isNotRegistered).at(-1)).toBe(
          `:${serverName} 451 ${before.context.hasNick ? nick : '*'} :You have not registered`,
        );
      }
      if (e === ev.join) {
        await changes.until(() => hasLine((l) => l === `:${nick}!~u@${host} JOIN #model`), () => `its JOIN; got ${JSON.stringify(client.text())}`);
      }
      const everRegistered = model.slice(0, i + 2).some((m) => m.matches({ open: 'registered' }));
      if (everRegistered) await changes.until(() => hasLine(isWelcome), () => `001; got ${JSON.stringify(client.text())}`);
      else expect(hasLine((l) => / 001 /.test(l)), 'no welcome before the model registers').toBe(false);
      if (next.matches({ open: { registered: 'pinged' } }) && !before.matches({ open: { registered: 'pinged' } })) {
        pings++;
        const n = pings;
        await changes.until(() => count(isPing) === n, () => `PING #${n}; got ${JSON.stringify(client.text())}`);
      }
      if (next.matches('quitting') && !before.matches('quitting')) {
        // The goodbye, with the reason in words, is the last line; then the server's FIN.
        const c = next.context;
        const who = c.hasUser ? '~u' : c.hasNick ? nick : '*';
        const goodbye = `ERROR :Closing link: (${who}@${host}) [${goodbyeText[c.closeReason!] ?? '?'}]`;
        await changes.until(() => client.ended, () => `the goodbye and FIN; got ${JSON.stringify(client.text())}`);
        expect(client.text().endsWith('\r\n')).toBe(true);
        expect(client.lines().at(-1)).toBe(goodbye);
        expect(count((l) => l.startsWith('ERROR '))).toBe(1);
        if (c.closeReason === 'badPassword') expect(client.lines().at(-2)).toBe(`:${serverName} 464 ${c.hasNick ? nick : '*'} :Password incorrect`);
      }
    }
    await changes.until(() => real.done, () => `the session to finish; real trace: ${realPath()}`);
    // The connection is closed on the client's side too, unless the client was left half-open
    // on purpose (after output past sendq) or reset it itself.
    if (clientEnded) await changes.until(() => client.closed, () => 'the connection to close');
    if (wireComplete) {
      // Everything the server sent is in: no 451 and no PING beyond those the model called for.
      expect(count(isNotRegistered), '451 replies').toBe(notRegistered);
      expect(count(isPing), 'PINGs').toBe(pings);
    }

    // The other member of #model saw it leave once, with the reason in words. On shutdown the
    // server tells everyone at once: the other member may be leaving too, and miss it.
    if (helper) {
      const h = helper;
      const closeReason = model.at(-1)!.context.closeReason!;
      const quits = () =>
        h
          .lines()
          .map((l) => parseMessage(l))
          .filter((m) => m?.command === 'QUIT' && m.source === `${nick}!~u@${host}`)
          .map((m) => m!.params[0]);
      if (closeReason !== 'shutdown') await changes.until(() => quits().length > 0, () => `its QUIT in #model; got ${JSON.stringify(h.text())}`);
      expect(quits()).toEqual(quits().length === 0 ? [] : [goodbyeText[closeReason]]);
    }

    // The other clients leave; then nothing may be left.
    if (helper) {
      helper.write('QUIT');
      const h = helper;
      await changes.until(() => h.ended, () => 'the helper to be let go');
      helper.socket.end();
    }
    if (holder) holder.socket.end();
    await changes.until(() => [...sessions.values()].every((s) => s.done), () => 'every session to finish');
    await changes.until(() => handle.liveConnections() === 0, () => 'no live sessions', 2_000).catch(() => {});
    return { model, trace: real.trace, lines, id: real.id, remote, accepted: sessions.size, liveAtEnd: handle.liveConnections() };
  } finally {
    for (const p of peers) p.socket.destroy();
    handle.shutdown();
    await handle.done;
  }
}

describe('IRC session machine, model-based', () => {
  afterAll(() => {
    const each = explorations.map((x) => `${x.name} ${replayed.filter((p) => p.exploration === x).length}`).join(', ');
    console.log(`IRC session model: ${planned.length} simple paths, ${replayed.length} complete paths replayed (${each})`);
  });

  it('has a real client action (or a stated reason) for every event the machine knows', () => {
    const keys = new Set(keyOf.values());
    const covered = new Set(candidates.map(eventKey));
    const missing = [...keys].filter((k) => !covered.has(k) && !(k in unreachable));
    expect(missing, 'events with no real action: add one to `ev` or a reason to `unreachable`').toEqual([]);
    // And nothing here names an event the machine does not have.
    expect([...covered].filter((k) => !keys.has(k))).toEqual([]);
  });

  it('generates paths to replay: at least 636 simple paths and 177 complete ones', () => {
    // Without this, a change to the machine or to an exploration's `realizable` that left
    // xstate/graph with no path would leave the replay below with nothing to run, and the file
    // would still pass.
    expect(planned.length).toBeGreaterThanOrEqual(636);
    expect(replayed.length).toBeGreaterThanOrEqual(177);
  });

  it('finds the registration orders, holds and timeouts as distinct paths, in every exploration', () => {
    for (const x of explorations) {
      expect(replayed.filter((p) => p.exploration === x).length, x.name).toBeGreaterThanOrEqual(x.atLeast);
    }
    const names = new Set(replayed.map((p) => p.name));
    for (const name of [
      'no password: NICK → USER → QUIT → closed',
      'no password: USER → NICK → QUIT → closed',
      'no password: CAP LS → NICK → USER → CAP END → QUIT → closed',
      'no password: NICK → CAP LS → USER → CAP END → QUIT → closed',
      'no password: CAP LS → NICK → USER → registration timeout → closed',
      'no password: registration timeout → closed',
      'no password: NICK → PRIVMSG (451) → USER → QUIT → closed',
      'password: PASS (right) → NICK → USER → QUIT → closed',
      'password: NICK → PASS (right) → USER → QUIT → closed',
      'password: CAP LS → NICK → USER → PASS (right) → CAP END → QUIT → closed',
      'password: PASS (wrong) → PASS (right) → NICK → USER → QUIT → closed',
      'password: NICK → USER → closed',
      'password: PASS (wrong) → NICK → USER → closed',
      'registered: NICK → USER → JOIN #model → ping interval → PONG → QUIT → closed',
      'registered: NICK → USER → JOIN #model → ping interval → ping timeout → closed',
      'registered: NICK → USER → JOIN #model → ping interval → output past sendq → closed',
      'over the per-IP limit: closed',
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });

  it('replays paths that reach every state and every close reason a client can cause', () => {
    const visited = replayed.flatMap((p) => {
      const model = [initialOf(p.exploration.input)];
      for (const e of p.events) model.push(advance(model.at(-1)!, e));
      return model;
    });
    const states = new Set(visited.map((s) => valuePath(s.value)));
    expect([...states].sort()).toEqual(
      [
        'closed', 'open.registered.active', 'open.registered.pinged', 'open.registering.negotiating',
        'open.registering.waiting', 'quitting',
      ].sort(),
    );
    // All but `clientGone` (a close with neither FIN nor error before it: no client can cause
    // that; the unit tests send socket.close in `open`).
    const reasons = new Set(visited.map((s) => s.context.closeReason).filter((r) => r !== null));
    expect([...reasons].sort()).toEqual(
      [
        'badPassword', 'clientEnded', 'excessFlood', 'pingTimeout', 'quit', 'registrationTimeout', 'sendqExceeded',
        'shutdown', 'socketError', 'tooManyFromIp',
      ].sort(),
    );
  });

  it('covers every simple path: each one is a prefix of a replayed complete path', () => {
    const isPrefix = (a: string[], b: string[]) => a.length <= b.length && a.every((step, i) => b[i] === step);
    const uncovered = planned.filter((p) => !replayed.some((c) => c.exploration === p.exploration && isPrefix(p.steps, c.steps)));
    expect(uncovered.map((p) => p.name)).toEqual([]);
  });

  it.concurrent.each(replayed.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    const { model, trace, lines, id, remote, accepted, liveAtEnd } = await withSlot(() => replay(path));
    // In the actor: the real run went through exactly the model's states, in order.
    const visited = (snaps: Snapshot[]) => dedupe(snaps.map(stateKey));
    expect(visited(trace)).toEqual(visited(model));
    const last = model.at(-1)!;
    const realLast = trace.at(-1)!;
    expect(realLast.status).toBe('done');
    for (const field of ['closeReason', 'quitMessage', 'socketErrorCode', 'hasNick', 'hasUser', 'passMatches'] as const) {
      expect(realLast.context[field], field).toBe(last.context[field]);
    }
    // Invariants the model itself must keep, whatever the transitions say.
    for (const m of model) {
      if (m.matches({ open: 'registered' })) {
        expect(m.context.hasNick && m.context.hasUser).toBe(true);
        if (m.context.passwordRequired) expect(m.context.passMatches).toBe(true);
      }
      if (m.matches('quitting') || m.status === 'done') expect(m.context.closeReason).not.toBeNull();
    }
    // In the log: opened, registered exactly when the model registered, one close with the
    // reason, one close line per accepted connection, and never a message body or password.
    const own = lines.filter((l) => l.startsWith(`#${id} `));
    expect(own[0]).toBe(`#${id} Connection established from ${remote}`);
    const registered = model.some((m) => m.matches({ open: 'registered' }));
    expect(own.filter((l) => l.includes(' registered as '))).toEqual(registered ? [`#${id} registered as ${nick}`] : []);
    expect(own.filter((l) => l.includes(' closed ('))).toEqual([`#${id} Connection with ${remote} closed (${last.context.closeReason}).`]);
    if (last.context.closeReason === 'socketError') {
      expect(own).toContain(`#${id} Connection with ${remote} failed: SOCKET_ERROR (${last.context.socketErrorCode})`);
    }
    expect(lines.filter((l) => l.includes(' closed ('))).toHaveLength(accepted);
    expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    expect(lines.filter((l) => / failed: (?!SOCKET_ERROR)|unclosed|crashed/.test(l))).toEqual([]);
    expect(liveAtEnd).toBe(0);
  });
});
