// What the live view shows, kept up to date from XState inspection events: the server's state
// and counters, each live connection's state and last event, a short transition history per
// connection, and the recently closed ones. No sockets here; the HTTP side (adapters/
// inspectServer.ts) reads `view()` and `connection(id)` and pushes them to browsers.
//
// Everything is bounded: a history per connection, a ring of closed connections, and a cap on
// the rows sent per update, so 2,000 live connections cost a few Map writes per event and a
// view of fixed size.

import type { InspectionEvent } from 'xstate';
import type { ChatTotals } from '../../irc/session/protocol.js';

export interface Transition {
  /** ms since the epoch */
  at: number;
  event: string;
  state: string;
}

export interface ConnectionRow {
  id: number;
  remote: string;
  state: string;
  openedAt: number;
  lastEvent: string;
  lastEventAt: number;
  closedAt: number | null;
  closeReason: string | null;
  /** The client's reply once it has one: raw client text, cut to `maxReplyChars`. */
  reply: string | null;
}

export interface MonitorView {
  now: number;
  server: { state: string; address: string | null; maxConnections: number };
  counters: { live: number; accepted: number; closed: number; turnedAway: number; errors: number };
  /** Live connections per connection-machine state path (e.g. `open.awaitingReply.empty`). */
  statesCount: Record<string, number>;
  /** The most recently active live connections, newest first, at most `maxRows`. */
  live: ConnectionRow[];
  /** Recently closed connections, newest first. */
  recent: ConnectionRow[];
  /** IRC mode: users and channels now, chat messages per second (last sample); null otherwise. */
  chat: { users: number; channels: number; messagesPerSecond: number } | null;
  /** Which session machine the connections run (`connection` or `ircSession`). */
  sessionMachine: string;
}

/** Totals an IRC server reports to the live view (sampled once a second). */
export type { ChatTotals };

export interface MonitorLimits {
  /** Live rows sent per update; the rest are counted, not listed. */
  maxRows: number;
  /** Closed connections remembered. */
  recentClosed: number;
  /** Transitions remembered per connection. */
  historyPerConnection: number;
  /** Characters of a reply kept for display. */
  maxReplyChars: number;
}

export const defaultMonitorLimits: MonitorLimits = {
  maxRows: 200,
  recentClosed: 100,
  historyPerConnection: 64,
  maxReplyChars: 200,
};

/** `a.b.c` for an XState state value. */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '';
  const [key, child] = entries[0]!;
  return `${key}.${statePath(child)}`;
}

/** Close reasons that count as errors in the counters. */
const errorReasons = new Set(['socketError', 'replyTimeout', 'replyTooLong']);

interface Tracked {
  row: ConnectionRow;
  history: Transition[];
}

interface MachineSnapshotLike {
  status: string;
  value: unknown;
  context: Record<string, unknown>;
  machine?: { id?: string };
}

export class Monitor {
  private readonly live = new Map<number, Tracked>();
  private readonly closed: Tracked[] = [];
  private readonly byActor = new WeakMap<object, Tracked>();
  private server: MonitorView['server'] = { state: 'idle', address: null, maxConnections: 0 };
  private accepted = 0;
  private closedCount = 0;
  private turnedAway = 0;
  private errors = 0;
  private version = 0;
  private readonly listeners = new Set<() => void>();
  private chat: MonitorView['chat'] = null;
  private sessionMachine = 'connection';
  private sampler: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: MonitorLimits = defaultMonitorLimits,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The XState inspection observer: pass it as `inspect` to createActor. */
  readonly inspect = (ev: InspectionEvent): void => {
    if (ev.type !== '@xstate.snapshot') return;
    const snapshot = ev.snapshot as unknown as MachineSnapshotLike;
    const machineId = snapshot.machine?.id;
    if (machineId === 'server') this.onServer(snapshot);
    else if (machineId === 'connection' || machineId === 'ircSession') this.onConnection(ev.actorRef, ev.event.type, snapshot);
  };

  /**
   * IRC mode: sample the chat totals every `everyMs` (users, channels, and messages per second
   * from the difference). Returns a function that stops sampling.
   */
  watchChat(totals: () => ChatTotals | Promise<ChatTotals>, everyMs = 1_000): () => void {
    this.sessionMachine = 'ircSession';
    let last: ChatTotals = { users: 0, channels: 0, messages: 0 };
    let lastAt = this.clock();
    this.chat = { users: 0, channels: 0, messagesPerSecond: 0 };
    let sampling = false;
    const sample = async (): Promise<void> => {
      if (sampling) return;
      sampling = true;
      const next = await Promise.resolve(totals()).finally(() => (sampling = false));
      const now = this.clock();
      const seconds = Math.max(0.001, (now - lastAt) / 1000);
      const chat = {
        users: next.users,
        channels: next.channels,
        messagesPerSecond: Math.round((Math.max(0, next.messages - last.messages) / seconds) * 10) / 10,
      };
      last = next;
      lastAt = now;
      const same =
        this.chat !== null &&
        this.chat.users === chat.users &&
        this.chat.channels === chat.channels &&
        this.chat.messagesPerSecond === chat.messagesPerSecond;
      this.chat = chat;
      if (!same) this.changed();
    };
    void sample().catch(() => {});
    this.sampler = setInterval(() => void sample().catch(() => {}), everyMs);
    this.sampler.unref();
    return () => {
      if (this.sampler) clearInterval(this.sampler);
      this.sampler = null;
    };
  }

  /** Called after every change (the HTTP side throttles its pushes). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Increases on every change; lets a pusher skip unchanged views. */
  get changes(): number {
    return this.version;
  }

  private changed(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }

  private onServer(snapshot: MachineSnapshotLike): void {
    const ctx = snapshot.context as {
      address: { host: string; port: number } | null;
      maxConnections: number;
      rejected: number;
    };
    this.server = {
      state: statePath(snapshot.value),
      address: ctx.address ? `${ctx.address.host}:${ctx.address.port}` : null,
      maxConnections: ctx.maxConnections,
    };
    this.turnedAway = ctx.rejected;
    this.changed();
  }

  private onConnection(actor: object, eventType: string, snapshot: MachineSnapshotLike): void {
    const now = this.clock();
    const state = statePath(snapshot.value);
    let tracked = this.byActor.get(actor);
    if (!tracked) {
      const ctx = snapshot.context as { id: number; remote: string };
      tracked = {
        row: {
          id: ctx.id,
          remote: ctx.remote,
          state,
          openedAt: now,
          lastEvent: eventType,
          lastEventAt: now,
          closedAt: null,
          closeReason: null,
          reply: null,
        },
        history: [],
      };
      this.byActor.set(actor, tracked);
      this.live.set(ctx.id, tracked);
      this.accepted++;
    }
    const { row, history } = tracked;
    // An event that changes nothing (bytes ignored while closing) still counts as activity.
    row.lastEvent = eventType;
    row.lastEventAt = now;
    // Transitions, not every event: bytes trickling into `partial` are one entry, not thousands.
    if (history.length === 0 || history[history.length - 1]!.state !== state) {
      history.push({ at: now, event: eventType, state });
      if (history.length > this.limits.historyPerConnection) history.splice(0, history.length - this.limits.historyPerConnection);
    }
    row.state = state;
    const reply = snapshot.context.reply;
    if (typeof reply === 'string' && row.reply === null) row.reply = reply.slice(0, this.limits.maxReplyChars);
    if (snapshot.status !== 'active' && row.closedAt === null) {
      row.closedAt = now;
      row.closeReason = (snapshot.context.closeReason as string | null) ?? snapshot.status;
      this.live.delete(row.id);
      this.closedCount++;
      if (snapshot.status === 'error' || errorReasons.has(row.closeReason)) this.errors++;
      this.closed.unshift(tracked);
      if (this.closed.length > this.limits.recentClosed) this.closed.length = this.limits.recentClosed;
    }
    this.changed();
  }

  view(): MonitorView {
    const statesCount: Record<string, number> = {};
    for (const { row } of this.live.values()) statesCount[row.state] = (statesCount[row.state] ?? 0) + 1;
    // Most recently active first; with thousands live only the top rows are sent.
    const rows = [...this.live.values()].map((t) => t.row);
    rows.sort((a, b) => b.lastEventAt - a.lastEventAt || b.id - a.id);
    return {
      now: this.clock(),
      server: { ...this.server },
      counters: {
        live: this.live.size,
        accepted: this.accepted,
        closed: this.closedCount,
        turnedAway: this.turnedAway,
        errors: this.errors,
      },
      statesCount,
      chat: this.chat ? { ...this.chat } : null,
      sessionMachine: this.sessionMachine,
      live: rows.slice(0, this.limits.maxRows).map((r) => ({ ...r })),
      recent: this.closed.map((t) => ({ ...t.row })),
    };
  }

  /** One connection's row and transitions in order, live or recently closed. */
  connection(id: number): { row: ConnectionRow; history: Transition[] } | null {
    const tracked = this.live.get(id) ?? this.closed.find((t) => t.row.id === id);
    return tracked ? { row: { ...tracked.row }, history: tracked.history.map((h) => ({ ...h })) } : null;
  }
}
