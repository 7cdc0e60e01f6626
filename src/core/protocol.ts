// What a protocol brings to the listener: the seam between the protocol-independent server
// (accepting, capping, draining: listener.ts and serverMachine.ts) and each protocol's sessions
// (src/greeting/, src/irc/). The listener imports nothing of any protocol; the CLI builds one
// and hands it over.

import type { AnyStateMachine } from 'xstate';
import type { SessionActor as LeanSessionActor } from './leanActor.js';
import type { Transport } from './transport.js';

/** A session actor as the listener sees it: something that can hear `server.shutdown`. */
export type SessionActor = LeanSessionActor;

export interface SessionProtocol {
  /** The protocol's name, as `--protocol` spells it (logged when the server listens). */
  readonly name: string;
  /** The machine each session runs (drawn by the live view, labelled in metrics). */
  readonly sessionMachine: AnyStateMachine;
  /**
   * A client was accepted (a socket, or a client adopted from another transport), paused:
   * attach its listeners and return its session actor, not started (the listener observes it
   * first). The session must answer `server.shutdown` and reach a final state once its
   * transport has closed.
   */
  open(id: number, remote: string, socket: Transport): SessionActor;
  /** The session's actor finished (or crashed): forget whatever was kept for it. */
  closed(id: number): void;
  /** The one line sent to a client turned away because the server is full or stopping. */
  turnAwayLine(code: 'SERVER_BUSY' | 'SHUTTING_DOWN'): string;
}
