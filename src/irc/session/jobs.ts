// Runs a session's jobs (a command, the welcome, the departure) and applies their outcomes:
// sends to their targets, then effects to the machine. A job that answers later (the network
// state is asynchronous on Redis) holds the session's queue until it does, so one client's
// commands run one at a time, in order, while every other client goes on.

import { isNetworkUnavailable } from '../../core/errors.js';
import { isStoreUnavailable } from '../../store/store.js';
import type { LogFields, Logger } from '../../core/logger.js';
import { numeric } from '../commands/common.js';
import type { CommandContext } from '../commands/types.js';
import type { MaybePromise, Outcome } from '../commands/types.js';
import { ERR_UNAVAILRESOURCE, ERR_UNKNOWNERROR } from '../wire/numerics.js';
import { pump } from './inbox.js';
import { answering, send, sendLabeled } from './outbox.js';
import { userFields, type Router, type UserFields } from './routing.js';
import type { Session } from './session.js';

export class JobRunner {
  /** Jobs of every session still waiting on the network state (see settled()). */
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly ctx: CommandContext,
    private readonly router: Router,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs one job for a session now; if it answers later, the session's queue waits for it.
   * With a `label` (labeled-response), what the job sends the client is one labeled response.
   */
  run(session: Session, what: string, job: () => MaybePromise<Outcome>, label: string | null = null): void {
    let result: MaybePromise<Outcome>;
    // Multiclient: what the job changes of its user reaches the user's other sessions.
    const before = this.router.hasSiblings(session) ? userFields(session.client) : null;
    try {
      result = job();
    } catch (err) {
      return this.labeled(session, label, () => this.failed(session, what, err));
    }
    if (!(result instanceof Promise)) return this.apply(session, result, label, before);
    const pending = (session.inFlight = result.then(
      (outcome) => {
        session.inFlight = null;
        this.apply(session, outcome, label, before);
        pump(session);
      },
      (err: unknown) => {
        session.inFlight = null;
        this.labeled(session, label, () => this.failed(session, what, err));
        pump(session);
      },
    ));
    this.running.add(pending);
    void pending.finally(() => this.running.delete(pending));
  }

  /** Runs a job for a session after whatever it is running now (never two at once). */
  runAfter(session: Session, what: string, job: () => MaybePromise<Outcome>): void {
    if (session.inFlight) void session.inFlight.then(() => this.run(session, what, job));
    else this.run(session, what, job);
  }

  /** Resolves once no job waits on the network state (departures included). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Runs `applying` with what it sends this client caught, then sends that as the labeled
   * response to `label`; without a label, just runs it.
   */
  private labeled(session: Session, label: string | null, applying: () => void): void {
    // What the session is sent while its outcome is applied answers it: written first.
    if (label === null) return answering(session, applying);
    session.labeled = [];
    answering(session, () => {
      try {
        applying();
      } finally {
        const replies = session.labeled;
        session.labeled = null;
        sendLabeled(session, label, replies!);
      }
    });
  }

  /**
   * Applies an outcome in order: sends to their targets, then kills, then effects to the
   * machine (host changes with the kills). The labeled response is what the sends gave this client: what the machine does
   * next (a welcome after CAP END) is not part of it.
   */
  private apply(session: Session, outcome: Outcome, label: string | null, before: UserFields | null): void {
    this.router.syncSiblings(session, before);
    this.labeled(session, label, () => {
      for (const s of outcome.sends) this.router.deliver(session, s);
      for (const k of outcome.kills ?? []) this.router.kill(k.clientId, k.reason);
      for (const account of outcome.logouts ?? []) this.router.logoutAccount(account);
      for (const change of outcome.hostChanges ?? []) this.router.changeHost(change);
    });
    for (const line of outcome.log ?? []) this.logger.log('info', line.event, { id: session.id, ...line.fields });
    // After the sends: the history keeps what was delivered (BufferedHistory: never waits).
    if (outcome.history && this.ctx.history) {
      this.ctx.history.append(outcome.history).catch((err: unknown) => {
        this.logger.log('error', 'history.writeFailed', { id: session.id, message: err instanceof Error ? err.message : String(err) });
      });
    }
    const actor = session.actor;
    if (!actor) return;
    for (const effect of outcome.effects) actor.send(effect);
  }

  // A handler that throws is a bug: say so in the log and keep the client and everyone else.
  // What it needed being unreachable is not a bug: the network state (Redis down) or the store
  // (disk full, PostgreSQL gone). Either way the client is told its command did not run (it
  // is not left waiting for an answer that will not come), and the log says so once per
  // command; what a bug was is in the log, not on the wire.
  private failed(session: Session, what: string, err: unknown): void {
    const down =
      isNetworkUnavailable(err)
        ? { event: 'irc.networkUnavailable', text: 'The network is unreachable', fields: {} as LogFields }
        : isStoreUnavailable(err)
          ? { event: 'irc.storeUnavailable', text: 'The store is unavailable', fields: { message: err.message } as LogFields }
          : null;
    if (down === null) {
      this.logger.log('error', 'irc.commandFailed', { id: session.id, command: what, message: err instanceof Error ? err.message : String(err) });
    } else {
      this.logger.log('info', down.event, { id: session.id, command: what, ...down.fields });
    }
    // A welcome that did not happen leaves a client registered in its machine and on nobody's
    // network: it is told, and closed, at once (it may connect again once the network is back).
    if (what === 'welcome') {
      const reason = down === null ? 'The server could not complete your registration' : `${down.text}, try again shortly`;
      session.actor?.send({ type: 'irc.welcomeFailed', reason });
    } else if (what !== 'depart') {
      const reply =
        down === null
          ? numeric(this.ctx, session.client, ERR_UNKNOWNERROR, what, 'The server failed to run this command; the failure is logged')
          : numeric(this.ctx, session.client, ERR_UNAVAILRESOURCE, what, `${down.text}: ${what} did not run, try again shortly`);
      send(session, reply);
    }
  }
}
