// The IRC protocol's session adapter: one ircSession actor per client. It is the only IRC code
// that touches a socket: a Transport (transport.ts), a TCP or TLS socket or a WebSocket client,
// served alike. It maps socket events to machine events (listeners attached in
// `open`, named `socketOn<Event>`), and does the mechanics the machine names but does not
// decide:
//   - input: bytes are framed (bounded: a line past 512 bytes is answered with 417 and
//     dropped), parsed and queued; the queue is bounded (recvqBytes: `client.flood`);
//   - order: one command at a time per client, in order. The next line is handed to the
//     machine (`irc.message`) only when the previous command has finished, even when the
//     network state answered asynchronously, and only when flood control (a token bucket)
//     allows: excess commands are delayed (fakelag), not dropped;
//   - output: each message is serialised once, whatever the number of recipients (twice at
//     most: with and without a server-time tag), queued per client and written once per
//     event-loop turn as one write; a client whose unread output passes sendqBytes gets
//     `client.sendqExceeded`, and nobody else ever waits for it.
// What a command does is src/irc/commands/table.ts's business; where the nicks and channels live is
// the NetworkState's (src/irc/state/networkState.ts).

import type { InspectionEvent } from 'xstate';
import type { ServerConfig } from '../../core/config.js';
import type { ChatTotals } from '../../ops/inspect/monitor.js';
import type { Logger } from '../../core/logger.js';
import { depart, dispatch, passwordMismatch, welcome, type CommandContext } from '../commands/table.js';
import { MemoryState } from '../state/memoryState.js';
import { numeric, sourceOf } from '../commands/common.js';
import { ERR_INPUTTOOLONG, ERR_NOTREGISTERED, ERR_UNAVAILRESOURCE } from '../wire/numerics.js';
import { NetworkUnavailableError, type NetworkState } from '../state/networkState.js';
import { clientIdOf, connectionOf, nodeOf } from '../state/ids.js';
import { newClient, type Client, type MaybePromise, type Outcome, type Send } from '../commands/types.js';
import { ircSessionMachine, quitText, type IrcSessionMachine } from './ircSessionMachine.js';
import { LineFramer } from '../wire/framer.js';
import { message, parseMessage, serializeMessage, type IrcMessage } from '../wire/message.js';
import { TokenBucket } from './tokenBucket.js';
import { startSession, type SessionActor as LeanSessionActor } from '../../core/leanActor.js';
import { sessionLogActions } from '../../core/sessionLog.js';
import type { SessionProtocol } from '../../core/listener.js';
import { abort, type Transport } from '../../core/transport.js';

export const serverVersion = 'xstate-tcp-chat-0.1.0';

type SessionActor = LeanSessionActor<IrcSessionMachine>;

/** A message serialised at most once per form, however many clients it goes to. */
interface Wire {
  message: IrcMessage;
  plain: string | null;
  timed: string | null;
  plainBytes: number | null;
  timedBytes: number | null;
  time: string;
}

/** A message going to many clients, not serialised yet. */
function wireOf(message: IrcMessage, time: string): Wire {
  return { message, plain: null, timed: null, plainBytes: null, timedBytes: null, time };
}

/** What the adapter counts for --metrics: plain integers, bumped where the work happens. */
export interface IrcStats {
  /** Clients welcomed (001 sent). */
  registrations: number;
  /** Commands run (every parsed line handed to a session machine and run). */
  commands: number;
  /** PRIVMSG and NOTICE commands run. */
  chatMessages: number;
  /** Lines queued to clients (each delivery of a message to one client is one). */
  linesOut: number;
  /** Bytes read from clients, and written to them. */
  bytesIn: number;
  bytesOut: number;
}

/** Everything the adapter keeps for one client. The machine's context holds the decisions. */
interface Session {
  readonly id: number;
  /** The protocol's command context: its IRC config, state and clock. */
  readonly ctx: CommandContext;
  /** The protocol's counters, shared by every session. */
  readonly stats: IrcStats;
  readonly socket: Transport;
  readonly client: Client;
  actor: SessionActor | null;
  readonly framer: LineFramer;
  readonly bucket: TokenBucket;
  /**
   * Lines received and not yet run, oldest first (with their size), and their total bytes.
   * Null when empty, as `out` is: an idle client keeps no empty arrays (32 bytes each).
   */
  inbox: Array<{ text: string; bytes: number }> | null;
  inboxHead: number;
  inboxBytes: number;
  /** The job (a command, the welcome) still running, which answers later; null when none. */
  inFlight: Promise<void> | null;
  /** Fakelag: the timer that runs the next line once the bucket has a token. */
  delay: NodeJS.Timeout | null;
  /** Output not yet written (null when none), and its bytes. */
  out: string[] | null;
  outBytes: number;
  /**
   * When output was last written (performance.now() in whole ms), for outputCoalesceMs. Whole:
   * a small integer is kept in the session itself, a fraction in a 16-byte number of its own.
   */
  lastWriteAt: number;
  /** No more output: the session is closing (or its sendq overflowed). */
  muted: boolean;
  departed: boolean;
}

const kSession = Symbol('ircSession');
interface ServedSocket extends Transport {
  [kSession]?: Session;
}

function socketOnData(this: ServedSocket, bytes: Buffer): void {
  const session = this[kSession];
  if (session) receive(session, bytes);
}
function socketOnEnd(this: ServedSocket): void {
  this[kSession]?.actor?.send({ type: 'socket.end' });
}
function socketOnError(this: ServedSocket, err: NodeJS.ErrnoException): void {
  // Node destroys the socket after 'error' and then emits 'close'.
  this[kSession]?.actor?.send({ type: 'socket.error', code: err.code ?? 'UNKNOWN', message: err.message });
}
function socketOnClose(this: ServedSocket): void {
  this[kSession]?.actor?.send({ type: 'socket.close' });
}

/** Frames what arrived and queues the lines; a queue past recvqBytes is a flood. */
function receive(session: Session, bytes: Buffer): void {
  session.stats.bytesIn += bytes.length;
  for (const item of session.framer.push(bytes)) {
    if (item.kind === 'tooLong') {
      send(session, numeric(session.ctx, session.client, ERR_INPUTTOOLONG, 'Input line was too long'));
      continue;
    }
    const bytes = Buffer.byteLength(item.text);
    (session.inbox ??= []).push({ text: item.text, bytes });
    session.inboxBytes += bytes;
  }
  if (session.inboxBytes > session.ctx.config.recvqBytes) {
    // Stop reading: what it sends next can only be more of the same.
    session.socket.pause();
    session.inbox = null;
    session.inboxHead = 0;
    session.inboxBytes = 0;
    session.actor?.send({ type: 'client.flood' });
    return;
  }
  pump(session);
}

/** What a taken inbox slot holds until the inbox is emptied (the line itself can be freed). */
const noLine = { text: '', bytes: 0 };

/** Hands queued lines to the machine, one command at a time, as flood control allows. */
function pump(session: Session): void {
  while (session.inFlight === null && session.delay === null && session.inbox !== null) {
    const actor = session.actor;
    if (!actor || !actor.getSnapshot().matches('open')) return;
    const wait = session.bucket.take();
    if (wait > 0) {
      session.delay = setTimeout(() => {
        session.delay = null;
        pump(session);
      }, wait);
      return;
    }
    const line = session.inbox[session.inboxHead]!;
    session.inbox[session.inboxHead++] = noLine;
    session.inboxBytes -= line.bytes;
    if (session.inboxHead === session.inbox.length) {
      session.inbox = null;
      session.inboxHead = 0;
    }
    const message = parseMessage(line.text);
    if (message) actor.send({ type: 'irc.message', message });
  }
}

/** Queues one message for a client; written with the rest of this turn's output. */
function send(session: Session, message: IrcMessage | Wire): void {
  if (session.muted) return;
  session.stats.linesOut++;
  const timed = session.client.caps.has('server-time');
  const line = lineFor(message, timed);
  const out = (session.out ??= []);
  out.push(line);
  session.outBytes += 'plain' in message ? bytesOf(message, timed) : Buffer.byteLength(line);
  // The sendq bounds what the client has left unread, on top of the kernel's buffer: what Node
  // still holds for the socket (writableLength) once the kernel has taken what it will. This
  // turn's batch is not unread yet, so when it alone would pass the limit (a big WHO, a busy
  // turn) it is handed to the kernel now, and only what stays behind counts.
  const { sendqBytes } = session.ctx.config;
  if (session.outBytes + session.socket.writableLength > sendqBytes) {
    flush(session);
    if (session.socket.writableLength > sendqBytes) {
      session.muted = true;
      session.actor?.send({ type: 'client.sendqExceeded' });
    }
    return;
  }
  if (out.length === 1) scheduleFlush(session);
}

/** The byte length of a shared message's line, counted once per form like the line itself. */
function bytesOf(m: Wire, timed: boolean): number {
  if (timed) return (m.timedBytes ??= Buffer.byteLength(lineFor(m, true)));
  return (m.plainBytes ??= Buffer.byteLength(lineFor(m, false)));
}

function lineFor(m: IrcMessage | Wire, timed: boolean): string {
  if (!('plain' in m)) {
    if (!timed) return serializeMessage(m);
    return serializeMessage({ ...m, tags: { time: new Date().toISOString(), ...m.tags } });
  }
  if (timed) return (m.timed ??= serializeMessage({ ...m.message, tags: { time: m.time, ...m.message.tags } }));
  return (m.plain ??= serializeMessage(m.message));
}

// Output is written once per event-loop turn for every client that has some: one write (one
// syscall at most) per client however many lines a turn produced for it. A client written to
// less than outputCoalesceMs ago waits for the next coalescing tick instead, so a client in a
// busy channel gets one write per interval, not one per turn (the write is most of what a
// delivery costs: docs/benchmarks.md).
const dirty = new Set<Session>();
let flushScheduled = false;
const held = new Set<Session>();
let heldTimer: NodeJS.Timeout | null = null;
function scheduleFlush(session: Session): void {
  const coalesceMs = session.ctx.config.outputCoalesceMs;
  // Now rounded down, the last write rounded up: never less than coalesceMs between writes.
  if (coalesceMs > 0 && Math.floor(performance.now()) - session.lastWriteAt < coalesceMs) {
    held.add(session);
    heldTimer ??= setTimeout(flushHeld, coalesceMs);
    return;
  }
  dirty.add(session);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushAll);
  }
}
function flushAll(): void {
  flushScheduled = false;
  for (const session of dirty) flush(session);
  dirty.clear();
}
function flushHeld(): void {
  heldTimer = null;
  for (const session of held) flush(session);
  held.clear();
}
/** lastWriteAt of a session never written to: long enough ago for any outputCoalesceMs. */
const neverWritten = -(2 ** 30);

function flush(session: Session): void {
  const out = session.out;
  if (out === null) return;
  const data = out.length === 1 ? out[0]! : out.join('');
  const bytes = session.outBytes;
  session.out = null;
  session.outBytes = 0;
  if (!session.socket.destroyed && session.socket.writable) {
    session.socket.write(data);
    session.stats.bytesOut += bytes;
    if (session.ctx.config.outputCoalesceMs > 0) session.lastWriteAt = Math.ceil(performance.now());
  }
}

/**
 * The host shown in `nick!user@host` and WHO replies: the IP (there are no DNS lookups), an
 * IPv4-mapped address as plain IPv4, and an IPv6 address that starts with ':' given a leading
 * 0 (`0::1`), as InspIRCd does, since a parameter may not start with ':'.
 */
function shownHost(ip: string): string {
  const v4 = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  return v4.startsWith(':') ? `0${v4}` : v4;
}

/**
 * Delivery to clients on other nodes (issue: one network over several processes). The session
 * adapter delivers to its own clients itself and hands the rest to the bus; the bus hands what
 * other nodes sent to `deliverRemote` of the protocol. Absent: this process is the network.
 */
export interface NetworkBus {
  /** To the members of these (folded) channels on other nodes, each once, except `except`. */
  toChannels(channels: string[], except: number | undefined, message: IrcMessage, time: string): void;
  /** To one client on another node. */
  toClient(clientId: number, message: IrcMessage, time: string): void;
}

/** What another node sent for this node's clients. */
export type RemoteDelivery =
  | { kind: 'channels'; channels: string[]; except?: number; message: IrcMessage; time: string }
  | { kind: 'client'; clientId: number; message: IrcMessage; time: string };

/** The IRC protocol as the listener sees it, plus what the network layer (Redis) needs. */
export interface IrcProtocol extends SessionProtocol {
  state: NetworkState;
  sessions: ReadonlyMap<number, { client: Client }>;
  nodeIndex: number;
  /** A NOTICE from the server to every local client (the network went away, or came back). */
  noticeAll(text: string): void;
  /** A NOTICE from the server to this node's members of a (folded) channel. */
  noticeChannel(channel: string, text: string): void;
  /** This node's clients. */
  clients(): Client[];
  /** Resolves once no job waits on the network state (departures included): before leaving it. */
  settled(): Promise<void>;
  /**
   * The network gave a local client another nick (a netsplit nick collision after Redis came
   * back): it and the members of `channels` (folded) see it change, as for a NICK.
   */
  renamed(clientId: number, nick: string, channels: string[]): void;
  /** Delivers what another node sent for this node's clients. */
  deliverRemote(delivery: RemoteDelivery): void;
  /** Users, channels and chat messages so far, for the live view. */
  totals(): Promise<ChatTotals>;
  /** What the adapter has counted since start, for --metrics. */
  readonly stats: Readonly<IrcStats>;
}

export interface IrcProtocolOptions {
  /** The network state; an in-memory one for this process when not given. */
  state?: NetworkState;
  /** This node's index in the network (client ids are network-wide: src/irc/state/ids.ts); 0 alone. */
  nodeIndex?: number;
  /** Delivery to other nodes; absent when this process is the whole network. */
  bus?: NetworkBus;
  now?: () => number;
}

export function ircProtocol(
  config: ServerConfig,
  logger: Logger,
  inspect: ((event: InspectionEvent) => void) | undefined,
  options: IrcProtocolOptions = {},
): IrcProtocol {
  const irc = config.irc;
  const now = options.now ?? Date.now;
  const state = options.state ?? new MemoryState();
  const nodeIndex = options.nodeIndex ?? 0;
  const bus = options.bus ?? null;
  const ctx: CommandContext = {
    config: irc,
    state,
    now,
    greeting: config.greeting,
    version: serverVersion,
    createdAt: now(),
  };
  const sessions = new Map<number, Session>();
  const perIp = new Map<string, number>();
  /** Jobs of every session still waiting on the network state (see settled()). */
  const running = new Set<Promise<void>>();
  const stats: IrcStats = { registrations: 0, commands: 0, chatMessages: 0, linesOut: 0, bytesIn: 0, bytesOut: 0 };
  const limits = {
    registrationTimeoutMs: irc.registrationTimeoutMs,
    pingIntervalMs: irc.pingIntervalMs,
    pingTimeoutMs: irc.pingTimeoutMs,
    closeTimeoutMs: config.closeTimeoutMs,
  };

  /** This node's session for a network-wide client id, if the client is here. */
  function localSession(clientId: number): Session | undefined {
    return nodeOf(clientId) === nodeIndex ? sessions.get(connectionOf(clientId)) : undefined;
  }

  /** Applies an outcome in order: sends to their targets, then effects to the machine. */
  function apply(session: Session, outcome: Outcome): void {
    for (const s of outcome.sends) deliver(session, s);
    const actor = session.actor;
    if (!actor) return;
    for (const effect of outcome.effects) actor.send(effect);
  }

  function deliver(from: Session, s: Send): void {
    const to = s.to;
    if (to.kind === 'self') return send(from, s.message);
    const wire = wireOf(s.message, new Date(now()).toISOString());
    if (to.kind === 'client') {
      if (nodeOf(to.clientId) === nodeIndex) {
        const target = localSession(to.clientId);
        if (target) send(target, wire);
      } else bus?.toClient(to.clientId, s.message, wire.time);
      return;
    }
    deliverToMembers(to.channels, to.except, wire);
    // Other nodes' members get one message per node from the bus; a `plus` client elsewhere
    // (kicked: no longer a member there) gets its own.
    bus?.toChannels(to.channels, to.except, s.message, wire.time);
    for (const id of to.plus ?? []) {
      if (id === to.except) continue;
      if (nodeOf(id) !== nodeIndex) bus?.toClient(id, s.message, wire.time);
      else if (!isMemberOfAny(id, to.channels)) {
        const target = localSession(id);
        if (target) send(target, wire);
      }
    }
  }

  /** To this node's members of the channels, each once even when they share several. */
  function deliverToMembers(channels: string[], except: number | undefined, wire: Wire): void {
    const seen = channels.length > 1 ? new Set<number>() : null;
    for (const channel of channels) {
      for (const id of state.localMembers(channel)) {
        if (id === except) continue;
        if (seen) {
          if (seen.has(id)) continue;
          seen.add(id);
        }
        const target = localSession(id);
        if (target) send(target, wire);
      }
    }
  }

  function isMemberOfAny(id: number, channels: string[]): boolean {
    for (const channel of channels) for (const member of state.localMembers(channel)) if (member === id) return true;
    return false;
  }

  /**
   * Runs one job (a command, the welcome, the departure) for a session. A job that answers
   * later holds the session's queue until it does: commands run one at a time, in order.
   */
  function run(session: Session, what: string, job: () => MaybePromise<Outcome>): void {
    let result: MaybePromise<Outcome>;
    try {
      result = job();
    } catch (err) {
      return failed(session, what, err);
    }
    if (!(result instanceof Promise)) return apply(session, result);
    const pending = (session.inFlight = result.then(
      (outcome) => {
        session.inFlight = null;
        apply(session, outcome);
        pump(session);
      },
      (err: unknown) => {
        session.inFlight = null;
        failed(session, what, err);
        pump(session);
      },
    ));
    running.add(pending);
    void pending.finally(() => running.delete(pending));
  }

  // A handler that throws is a bug: say so in the log and keep the client and everyone else.
  function failed(session: Session, what: string, err: unknown): void {
    // The network state unreachable (Redis down) is not a bug: the client is told its command
    // did not run, and the log says so once per command.
    if (err instanceof NetworkUnavailableError) {
      logger.log('info', 'irc.networkUnavailable', { id: session.id, command: what });
      if (what !== 'depart' && what !== 'welcome') {
        send(session, numeric(ctx, session.client, ERR_UNAVAILRESOURCE, what, `The network is unreachable: ${what} did not run, try again shortly`));
      }
      return;
    }
    logger.log('error', 'irc.commandFailed', {
      id: session.id,
      command: what,
      message: err instanceof Error ? err.message : String(err),
    });
  }

  /** Runs a job for a session after whatever it is running now (never two at once). */
  function runAfter(session: Session, what: string, job: () => MaybePromise<Outcome>): void {
    if (session.inFlight) void session.inFlight.then(() => run(session, what, job));
    else run(session, what, job);
  }

  const sessionLogic = ircSessionMachine.provide({
    actions: {
      ...sessionLogActions(logger),
      sendConnectNotice: ({ context }) => {
        const session = sessions.get(context.id);
        // Before registration the client has no nick: the target is `*`.
        if (session) send(session, numeric(ctx, session.client, 'NOTICE', config.greeting));
      },
      startReading: ({ context }) => void sessions.get(context.id)?.socket.resume(),
      runCommand: ({ context, event }) => {
        const session = sessions.get(context.id);
        if (!session || event.type !== 'irc.message') return;
        const command = event.message.command.toUpperCase();
        stats.commands++;
        if (command === 'PRIVMSG' || command === 'NOTICE') stats.chatMessages++;
        run(session, command, () => dispatch(ctx, session.client, event.message));
      },
      replyNotRegistered: ({ context }) => {
        const session = sessions.get(context.id);
        if (session) send(session, numeric(ctx, session.client, ERR_NOTREGISTERED, 'You have not registered'));
      },
      refusePassword: ({ context }) => {
        const session = sessions.get(context.id);
        if (session) run(session, 'PASS', () => passwordMismatch(ctx, session.client));
      },
      logRegistered: ({ context }) => {
        const session = sessions.get(context.id);
        logger.log('info', 'irc.registered', { id: context.id, remote: context.remote, nick: session?.client.nick ?? '' });
      },
      welcome: ({ context }) => {
        stats.registrations++;
        const session = sessions.get(context.id);
        if (session) run(session, 'welcome', () => welcome(ctx, session.client));
      },
      sendPing: ({ context }) => {
        const session = sessions.get(context.id);
        if (session) send(session, { tags: {}, source: null, command: 'PING', params: [irc.serverName] });
      },
      depart: ({ context }) => {
        const session = sessions.get(context.id);
        if (!session || session.departed) return;
        session.departed = true;
        const reason = quitText(context);
        // A command still running (its state answers later) finishes first: departing under
        // it would let it add the client back to a channel after it left.
        runAfter(session, 'depart', () => depart(ctx, session.client, reason));
      },
      endSocket: ({ context }) => {
        const session = sessions.get(context.id);
        if (!session) return;
        const { socket, client } = session;
        if (socket.destroyed) return;
        // A client that overflowed its sendq gets no more of its backlog, only the goodbye.
        if (context.closeReason !== 'sendqExceeded') flush(session);
        session.muted = true;
        if (session.delay) clearTimeout(session.delay);
        session.delay = null;
        const who = `${client.user ?? client.nick ?? '*'}@${client.host}`;
        const goodbye = serializeMessage({
          tags: {},
          source: null,
          command: 'ERROR',
          params: [`Closing link: (${who}) [${quitText(context)}]`],
        });
        // Keep reading (and dropping) until the client closes: a paused socket would never
        // see its FIN and would wait for closeTimeoutMs every time.
        socket.removeListener('data', socketOnData);
        socket.on('data', () => {});
        socket.resume();
        socket.end(goodbye);
      },
      destroySocket: ({ context }) => {
        const session = sessions.get(context.id);
        if (session) abort(session.socket);
      },
    },
  });

  return {
    state,
    sessions,
    nodeIndex,
    stats,
    noticeAll(text) {
      for (const session of sessions.values()) send(session, numeric(ctx, session.client, 'NOTICE', text));
    },
    noticeChannel(channel, text) {
      for (const id of state.localMembers(channel)) {
        const session = localSession(id);
        if (session) send(session, numeric(ctx, session.client, 'NOTICE', text));
      }
    },
    clients: () => [...sessions.values()].map((s) => s.client),
    async settled() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    renamed(clientId, nick, channels) {
      const session = localSession(clientId);
      if (!session) return;
      const change = message('NICK', nick);
      change.source = sourceOf(session.client);
      session.client.nick = nick;
      send(session, change);
      deliver(session, { to: { kind: 'channels', channels, except: clientId }, message: change });
    },
    deliverRemote(delivery) {
      const wire = wireOf(delivery.message, delivery.time);
      if (delivery.kind === 'channels') return deliverToMembers(delivery.channels, delivery.except, wire);
      const target = localSession(delivery.clientId);
      if (target) send(target, wire);
    },
    async totals() {
      const counts = await state.counts();
      return { users: counts.localUsers, channels: counts.channels, messages: stats.chatMessages };
    },
    open(id, remote, socket: ServedSocket) {
      const ip = socket.remoteAddress ?? 'unknown';
      const fromIp = (perIp.get(ip) ?? 0) + 1;
      perIp.set(ip, fromIp);
      const at = now();
      const session: Session = {
        id,
        ctx,
        stats,
        socket,
        client: newClient({ id: clientIdOf(nodeIndex, id), ip, host: shownHost(ip), tls: socket.encrypted === true, at }),
        actor: null,
        framer: new LineFramer({ maxLineBytes: irc.maxLineBytes, maxTagBytes: irc.maxTagBytes }),
        bucket: new TokenBucket({ burst: irc.floodBurstLines, ratePerSecond: irc.floodRateLinesPerSecond }),
        inbox: null,
        inboxHead: 0,
        inboxBytes: 0,
        inFlight: null,
        delay: null,
        out: null,
        outBytes: 0,
        lastWriteAt: neverWritten,
        muted: false,
        departed: false,
      };
      sessions.set(id, session);
      socket[kSession] = session;
      socket.on('data', socketOnData);
      socket.on('end', socketOnEnd);
      socket.on('error', socketOnError);
      socket.on('close', socketOnClose);
      // Output is already batched into one write per event-loop turn; Nagle's algorithm would
      // only hold a line back until the client ACKs the previous one (~40 ms on Linux).
      socket.setNoDelay(true);
      const actor = startSession(
        sessionLogic,
        { id, remote, limits, overIpLimit: fromIp > irc.maxConnectionsPerIp, passwordRequired: irc.password !== null },
        inspect,
      );
      session.actor = actor;
      return actor;
    },
    closed(id) {
      const session = sessions.get(id);
      if (!session) return;
      sessions.delete(id);
      if (session.delay) clearTimeout(session.delay);
      session.delay = null;
      session.actor = null;
      session.muted = true;
      (session.socket as ServedSocket)[kSession] = undefined;
      dirty.delete(session);
      held.delete(session);
      const left = (perIp.get(session.client.ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(session.client.ip);
      else perIp.set(session.client.ip, left);
    },
    turnAwayLine: (code) =>
      serializeMessage({
        tags: {},
        source: null,
        command: 'ERROR',
        params: [code === 'SERVER_BUSY' ? 'Closing link: [Server is full, try again later]' : 'Closing link: [Server shutting down]'],
      }),
  };
}
