// A small world for command tests: a memory state, a fixed clock, Client objects, and a `run`
// that dispatches one line and resolves the outcome's targets the way the session adapter
// does (channel members when applied, `except`, `plus`, each client once), so a test asserts
// exactly which client gets which wire line.

import { ChatError } from '../../../src/core/errors.js';
import { defaultConfig, type IrcConfig } from '../../../src/core/config.js';
import { depart, dispatch, welcome, type CommandContext } from '../../../src/irc/commands/table.js';
import { MemoryState, type MemoryStateOptions } from '../../../src/irc/state/memoryState.js';
import { MonitorIndex } from '../../../src/irc/state/monitorIndex.js';
import { newClient, type Client, type Outcome, type Send, type SessionEffect } from '../../../src/irc/commands/types.js';
import { parseMessage, serializeMessage } from '../../../src/irc/wire/message.js';
import { LoginThrottle, loginThrottleDefaults } from '../../../src/identity/throttle.js';
import type { Store } from '../../../src/store/store.js';
import { testStore } from '../../store/tempStore.js';
import { MemoryHistory } from '../../../src/history/memoryHistory.js';
import { fold } from '../../../src/irc/wire/casemap.js';

export const START = 1_700_000_000_000;

export interface Result {
  outcome: Outcome;
  effects: SessionEffect[];
  /** Every delivery in order, as `<recipient nick> <- <wire line without CRLF>`. */
  lines: string[];
  /** The wire lines one client got, in order. */
  to(client: Client): string[];
  /** The commands (numerics) one client got, in order. */
  commands(client: Client): string[];
}

export interface Harness {
  ctx: CommandContext;
  state: MemoryState;
  config: IrcConfig;
  clock: { now: number };
  /** A connected, unregistered client (certfp: its TLS client certificate's fingerprint). */
  connect(options?: { ip?: string; tls?: boolean; certfp?: string }): Client;
  /** Connects and registers (NICK, USER, welcome), optionally enabling caps first. */
  register(nick: string, options?: { caps?: string[]; ip?: string; tls?: boolean; certfp?: string; user?: string; realname?: string }): Promise<Client>;
  /** Dispatches one raw line from `client`. */
  run(client: Client, line: string): Promise<Result>;
  welcome(client: Client): Promise<Result>;
  /** Resolves an outcome a test got from a handler directly (enforceNick), as `run` does. */
  resolve(client: Client, outcome: Outcome): Result;
  depart(client: Client, reason: string): Promise<Result>;
}

export function harness(overrides: Partial<IrcConfig> = {}, stateOptions: MemoryStateOptions = {}, store: Store = testStore()): Harness {
  const config: IrcConfig = { ...defaultConfig.irc, serverName: 'irc.test', network: 'TestNet', ...overrides };
  const state = new MemoryState(stateOptions);
  const clock = { now: START };
  let msgids = 0;
  const ctx: CommandContext = {
    config,
    state,
    store,
    history: config.history === 'on' ? new MemoryHistory() : null,
    // The limits the server takes from its config (session/protocol.ts), so a test can lower them.
    logins: new LoginThrottle(
      { ...loginThrottleDefaults, failuresPerWindow: config.loginFailuresPerWindow, windowMs: config.loginWindowMs },
      () => clock.now,
    ),
    operators: { blocks: config.opers, rehash: async () => ({ ok: false, error: 'no config file in tests' }) },
    monitors: new MonitorIndex(),
    now: () => clock.now,
    newMsgid: () => `msg${++msgids}`,
    greeting: 'Hello there',
    version: 'test-1.0',
    createdAt: START - 60_000,
  };
  const clients = new Map<number, Client>();
  const registrations = new Map<number, { registered: boolean; negotiating: boolean }>();
  let nextId = 1;

  function recipients(self: Client, send: Send): number[] {
    const to = send.to;
    if (to.kind === 'self') return [self.id];
    if (to.kind === 'client') return clients.has(to.clientId) ? [to.clientId] : [];
    if (to.kind === 'everyone') return [...clients.values()].filter((c) => c.registered && c.modes.has(to.userMode)).map((c) => c.id);
    if (to.kind === 'monitors') return [...ctx.monitors.watchersOf(to.nick)].filter((id) => clients.has(id));
    if (to.kind === 'account') return [...clients.values()].filter((c) => c.account !== null && fold(c.account) === to.account).map((c) => c.id);
    const seen = new Set<number>();
    const out: number[] = [];
    for (const channel of to.channels) {
      for (const id of state.localMembers(channel)) {
        if (id === to.except || seen.has(id)) continue;
        seen.add(id);
        out.push(id);
      }
    }
    for (const id of to.plus ?? []) {
      if (id === to.except || seen.has(id)) continue;
      seen.add(id);
      out.push(id);
    }
    // extended-monitor: watchers of the nick who enabled it, each still once.
    if (to.watchersOf !== undefined) {
      for (const id of ctx.monitors.watchersOf(to.watchersOf)) {
        if (id === to.except || seen.has(id) || clients.get(id)?.caps.has('extended-monitor') !== true) continue;
        seen.add(id);
        out.push(id);
      }
    }
    return out;
  }

  function resolve(self: Client, outcome: Outcome): Result {
    const deliveries: Array<{ id: number; line: string }> = [];
    for (const send of outcome.sends) {
      for (const id of recipients(self, send)) {
        // The forms the router picks per recipient (onlyCap, capVariant), by its caps.
        const caps = clients.get(id)?.caps ?? new Set<string>();
        if (send.onlyCap !== undefined && !caps.has(send.onlyCap)) continue;
        if (send.exceptCap !== undefined && caps.has(send.exceptCap)) continue;
        const message = send.capVariant && caps.has(send.capVariant.cap) ? send.capVariant.message : send.message;
        // Tags (msgid, client-only tags) only for recipients that enabled message-tags, as the outbox does.
        // A verbatim message (a replay) carries exactly the tags it was built with.
        const shown = message && !send.verbatim && !caps.has('message-tags') ? { ...message, tags: {} } : message;
        if (shown) deliveries.push({ id, line: serializeMessage(shown).replace(/\r\n$/, '') });
      }
    }
    // What the adapter does after the sends (session/jobs.ts): the history keeps the entries.
    if (outcome.history && ctx.history) void ctx.history.append(outcome.history);
    const name = (id: number): string => clients.get(id)?.nick ?? `#${id}`;
    return {
      outcome,
      effects: outcome.effects,
      lines: deliveries.map((d) => `${name(d.id)} <- ${d.line}`),
      to: (c) => deliveries.filter((d) => d.id === c.id).map((d) => d.line),
      commands: (c) =>
        deliveries.filter((d) => d.id === c.id).map((d) => parseMessage(d.line)?.command ?? '?'),
    };
  }

  const h: Harness = {
    ctx,
    state,
    config,
    clock,
    connect(options = {}) {
      const id = nextId++;
      const ip = options.ip ?? `10.0.0.${id}`;
      // In the server the session machine's state says whether a client is registered; here
      // h.welcome plays that part, as the machine does on entering `registered`.
      const registration = { registered: false, negotiating: false };
      registrations.set(id, registration);
      const client: Client = newClient({ id, ip, host: ip, tls: options.tls ?? false, at: clock.now, certfp: options.certfp ?? null }, registration);
      clients.set(id, client);
      return client;
    },
    async register(nick, options = {}) {
      const client = h.connect(options);
      if (options.caps && options.caps.length > 0) await h.run(client, `CAP REQ :${options.caps.join(' ')}`);
      const nickResult = await h.run(client, `NICK ${nick}`);
      if (client.nick !== nick) throw new Error(`could not take ${nick}: ${nickResult.lines.join(' | ')}`);
      await h.run(client, `USER ${options.user ?? nick} 0 * :${options.realname ?? `${nick} real`}`);
      await h.welcome(client);
      return client;
    },
    async run(client, line) {
      const msg = parseMessage(line);
      if (!msg) throw new Error(`unparsable: ${line}`);
      const result = resolve(client, await dispatch(ctx, client, msg));
      // CAP holding registration open: the machine's `negotiating` state, played here.
      const registration = registrations.get(client.id);
      if (registration) {
        for (const effect of result.effects) {
          if (effect.type === 'irc.capHeld') registration.negotiating = true;
          if (effect.type === 'irc.capEnded') registration.negotiating = false;
        }
      }
      return result;
    },
    async welcome(client) {
      const registration = registrations.get(client.id);
      if (registration) registration.registered = true;
      return resolve(client, await welcome(ctx, client));
    },
    resolve,
    async depart(client, reason) {
      const result = resolve(client, await depart(ctx, client, reason));
      clients.delete(client.id);
      return result;
    },
  };
  return h;
}

/** A store that cannot be reached (harness's third argument): every call rejects as a real one's would. */
export function unavailableStore(): Store {
  const down = (): Promise<never> => Promise.reject(new ChatError('STORE_UNAVAILABLE', 'the store cannot be reached'));
  const history = new Proxy({}, { get: () => down });
  const base: Record<string, unknown> = { kind: 'sqlite', id: 'down', where: 'nowhere', history, close: async () => {} };
  return new Proxy(base, { get: (target, key) => (typeof key === 'string' && key in target ? target[key] : down) }) as unknown as Store;
}
