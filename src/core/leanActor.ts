// How session machines run when nobody is inspecting them: one small object per session that
// keeps the machine's snapshot, feeds it events one at a time through the machine's own
// transition function (`machine.transition`, XState's public ActorLogic API, the same
// algorithm `createActor` runs) and runs the actions and timers that transition names.
//
// Why not `createActor`: a root XState actor brings its own actor system, mailbox, observer
// set, inspection plumbing and scheduler bookkeeping. For a server holding thousands of
// sessions that is ~5 KiB of heap and ~25 µs of CPU per session before its machine does any
// work (docs/benchmarks.md, "The price of the machines"). A session needs none of it: it has no
// children, no system ids, and one observer (the listener). The machine is unchanged, drawn,
// walked by the model tests; only the loop around it is smaller.
//
// What is kept from XState's actor, on purpose and tested (test/unit/leanActor.test.ts):
// run-to-completion (an event sent while one is being processed waits its turn), entry actions
// of the initial state run at start(), `after` timers scheduled and cancelled as the
// transitions say, observers told of every snapshot, `complete` on reaching a final state, and
// a throwing action leaves the session in status 'error' with its timers cancelled and the
// `error` observers told. Inspection is the one thing left out: with an inspection observer
// (--inspect, --inspect-ws) sessions run as real XState actors (`startSession` below), so every
// inspection event is XState's own.
//
// Not public API: the transition functions are handed this object as their actor scope, and
// XState reaches into its `system` (`scheduler`, `_bookId`, `_relay`, `_sendInspectionEvent`)
// and its `actionExecutor`. Those are XState internals, so package.json pins xstate to the
// exact version this was written against (5.33.3), and test/unit/leanActor.test.ts compares
// the scope and system a real createActor builds with the shape recorded here: an upgrade that
// changes it fails that test by name before it can misbehave in a server.

import { createActor, type AnyStateMachine, type EventFromLogic, type InputFrom, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';

/** What the listener and tests use of a session actor; XState's Actor has the same shape. */
export interface SessionActor<TMachine extends AnyStateMachine = AnyStateMachine> {
  getSnapshot(): SnapshotFrom<TMachine>;
  send(event: EventFromLogic<TMachine>): void;
  start(): unknown;
  stop(): unknown;
  subscribe(observer: Partial<Observer<SnapshotFrom<TMachine>>>): { unsubscribe(): void };
}

/** A session for `machine`: a LeanActor, or a real XState actor when inspection is on. */
export function startSession<TMachine extends AnyStateMachine>(
  machine: TMachine,
  input: InputFrom<TMachine>,
  inspect?: (event: InspectionEvent) => void,
): SessionActor<TMachine> {
  if (inspect) return createActor(machine, { input, inspect } as never) as unknown as SessionActor<TMachine>;
  return new LeanActor(machine, input);
}

/** An action as XState's transition functions hand it to the scope's actionExecutor. */
interface ExecutableAction {
  exec?: (info: unknown, params: unknown) => void;
  info: unknown;
  params: unknown;
}
type Deferred = () => void;

const enum Status {
  NotStarted,
  Running,
  Stopped,
}

function executeNow(action: ExecutableAction): void {
  action.exec?.(action.info, action.params);
}

const notSupported = (what: string) => () => {
  throw new Error(`LeanActor: ${what} is not supported (sessions have no children); run it with createActor`);
};

// One system for every lean actor: schedule/cancel act on the actor passed as source. Only the
// scheduler and the inspection hook are reached by machines without children; the rest is there
// so that a machine that did spawn would fail loudly rather than half work.
const leanSystem = {
  scheduler: {
    schedule(source: LeanActor<AnyStateMachine>, _target: unknown, event: { type: string }, delay: number, id: string): void {
      source.schedule(event, delay, id);
    },
    cancel(source: LeanActor<AnyStateMachine>, id: string): void {
      source.cancel(id);
    },
    cancelAll(source: LeanActor<AnyStateMachine>): void {
      source.cancelTimers();
    },
  },
  _sendInspectionEvent(): void {},
  _bookId: notSupported('spawning'),
  _register: notSupported('spawning'),
  _unregister(): void {},
  _set: notSupported('systemId'),
  get: () => undefined,
  getAll: () => ({}),
  _relay: notSupported('sendTo'),
};

// One callback for every session's timers, given the actor and event as arguments: a closure
// per timer would cost a function and a context object per session.
function fireTimer(actor: LeanActor<AnyStateMachine>, id: string, event: EventFromLogic<AnyStateMachine>): void {
  actor.fired(id, event);
}

export class LeanActor<TMachine extends AnyStateMachine> implements SessionActor<TMachine> {
  // The actor scope XState's transition functions read (this object is passed as the scope):
  // `self`, `id`, `sessionId` and `system` are the same for every lean actor (or the actor
  // itself), so they are getters on the prototype rather than four fields per session.
  get self(): this {
    return this;
  }
  get id(): string {
    return '';
  }
  get sessionId(): string {
    return '';
  }
  get system(): typeof leanSystem {
    return leanSystem;
  }
  actionExecutor: (action: ExecutableAction) => void;

  // Pending `after` timers by XState's delayed-event id. A session nearly always has one at a
  // time (its deadline), so that one is kept in two fields; a Map is made only for more (it
  // would cost ~200 bytes per idle session).
  private timerId: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private moreTimers: Map<string, NodeJS.Timeout> | null = null;
  private snapshot: SnapshotFrom<TMachine>;
  private status = Status.NotStarted;
  private processing = false;
  /** Events sent while one was being processed (run-to-completion). */
  private queue: Array<EventFromLogic<TMachine>> | null = null;
  /** Effects XState defers until a snapshot is committed (timers), and the initial entry actions. */
  private deferred: Deferred[] | null = null;
  private observers: Array<Partial<Observer<SnapshotFrom<TMachine>>>> | null = null;

  constructor(
    private readonly machine: TMachine,
    input: InputFrom<TMachine>,
  ) {
    // The initial state's entry actions run at start(), as with createActor.
    this.actionExecutor = (action) => this.defer(() => executeNow(action));
    this.snapshot = machine.getInitialSnapshot(this as never, input) as SnapshotFrom<TMachine>;
    this.actionExecutor = executeNow;
  }

  defer(effect: Deferred): void {
    (this.deferred ??= []).push(effect);
  }
  logger(...args: unknown[]): void {
    console.log(...args);
  }
  emit(): void {}
  stopChild(): void {
    notSupported('stopping children')();
  }

  getSnapshot(): SnapshotFrom<TMachine> {
    return this.snapshot;
  }

  subscribe(observer: Partial<Observer<SnapshotFrom<TMachine>>>): { unsubscribe(): void } {
    // Copy on write: commit() walks the array it read without copying it on every step.
    this.observers = this.observers ? [...this.observers, observer] : [observer];
    return {
      unsubscribe: () => {
        if (this.observers) this.observers = this.observers.filter((o) => o !== observer);
      },
    };
  }

  start(): this {
    if (this.status !== Status.NotStarted) return this;
    this.status = Status.Running;
    this.processing = true;
    try {
      this.commit(this.snapshot);
      this.drain();
    } finally {
      this.processing = false;
    }
    return this;
  }

  send(event: EventFromLogic<TMachine>): void {
    if (this.status === Status.Stopped) return;
    if (this.processing || this.status === Status.NotStarted) {
      (this.queue ??= []).push(event);
      return;
    }
    this.processing = true;
    try {
      this.process(event);
      this.drain();
    } finally {
      this.processing = false;
    }
  }

  /** Stops timers and drops queued events; observers are told `complete`, as XState does. */
  stop(): this {
    if (this.status === Status.Stopped) return this;
    const wasRunning = this.status === Status.Running;
    this.halt();
    if (wasRunning) {
      this.snapshot = { ...(this.snapshot as object), status: 'stopped' } as SnapshotFrom<TMachine>;
      this.complete();
    }
    return this;
  }

  schedule(event: { type: string }, delay: number, id: string): void {
    this.cancel(id);
    const timer = setTimeout(fireTimer, delay, this, id, event);
    if (this.timerId === null) {
      this.timerId = id;
      this.timer = timer;
    } else {
      (this.moreTimers ??= new Map()).set(id, timer);
    }
  }

  cancel(id: string): void {
    const timer = this.timerId === id ? this.timer : this.moreTimers?.get(id);
    if (timer) clearTimeout(timer);
    this.forget(id);
  }

  cancelTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.moreTimers) for (const timer of this.moreTimers.values()) clearTimeout(timer);
    this.timerId = null;
    this.timer = null;
    this.moreTimers = null;
  }

  /** A timer went off: it is no longer pending, and its event is sent. */
  fired(id: string, event: EventFromLogic<TMachine>): void {
    this.forget(id);
    this.send(event);
  }

  private forget(id: string): void {
    if (this.timerId === id) {
      this.timerId = null;
      this.timer = null;
    } else {
      this.moreTimers?.delete(id);
    }
  }

  private drain(): void {
    const queue = this.queue;
    while (queue && queue.length > 0 && this.status === Status.Running) this.process(queue.shift()!);
    // An empty queue is let go: an idle session would keep an empty array for nothing.
    if (this.queue?.length === 0) this.queue = null;
  }

  private process(event: EventFromLogic<TMachine>): void {
    let next: SnapshotFrom<TMachine>;
    try {
      next = this.machine.transition(this.snapshot, event, this as never) as SnapshotFrom<TMachine>;
    } catch (err) {
      this.fail(err);
      return;
    }
    this.commit(next);
  }

  private commit(next: SnapshotFrom<TMachine>): void {
    this.snapshot = next;
    // A deferred effect may defer another (an initial entry action that schedules a timer).
    let deferred: Deferred[] | null;
    while ((deferred = this.deferred) !== null) {
      this.deferred = null;
      for (const effect of deferred) {
        try {
          effect();
        } catch (err) {
          // Only the initial entry actions can throw here; later actions run inside transition.
          this.fail(err);
          return;
        }
      }
    }
    const status = (next as { status: string }).status;
    if (status === 'error') {
      this.fail((next as { error?: unknown }).error);
      return;
    }
    const observers = this.observers;
    if (observers) for (const observer of observers) observer.next?.(next);
    if (status === 'done') {
      this.halt();
      this.complete();
    }
  }

  private fail(err: unknown): void {
    this.snapshot = { ...(this.snapshot as object), status: 'error', error: err } as SnapshotFrom<TMachine>;
    this.halt();
    const observers = this.observers ?? [];
    this.observers = null;
    const told = observers.filter((o) => o.error);
    // As XState does for a root actor nobody listens to: the error must not vanish.
    if (told.length === 0) throw err;
    for (const observer of told) observer.error!(err);
  }

  private halt(): void {
    this.status = Status.Stopped;
    this.cancelTimers();
    this.queue = null;
    this.deferred = null;
  }

  private complete(): void {
    const observers = this.observers;
    this.observers = null;
    if (observers) for (const observer of observers) observer.complete?.();
  }
}
