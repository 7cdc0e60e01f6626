// What the IRC adapter keeps for one client: its socket, its Client record, its inbox, outbox
// and running job. The machine's context holds the decisions (registered or not, why it
// closes); this holds the mechanics. One class, so that an idle client costs one object with
// its fields and shares its methods and the `registered` getter through the prototype.

import type { Transport } from '../../core/transport.js';
import type { SessionActor as LeanSessionActor } from '../../core/leanActor.js';
import type { CommandContext } from '../commands/types.js';
import { newClient, type Client, type ClientInit } from '../commands/types.js';
import { LineFramer } from '../wire/framer.js';
import type { IrcMessage } from '../wire/message.js';
import type { SharedMessage } from './sharedMessage.js';
import type { IrcSessionMachine } from './ircSessionMachine.js';
import { RelayTransport } from './relayTransport.js';
import { TokenBucket } from './tokenBucket.js';

export type IrcSessionActor = LeanSessionActor<IrcSessionMachine>;

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

/** lastWriteAt of a session never written to: long enough ago for any outputCoalesceMs. */
const neverWritten = -(2 ** 30);

export class Session {
  readonly client: Client;
  actor: IrcSessionActor | null = null;
  readonly framer: LineFramer;
  readonly bucket: TokenBucket;
  /**
   * Lines received and not yet run, oldest first (with their size), and their total bytes.
   * Null when empty, as `out` is: an idle client keeps no empty arrays (32 bytes each).
   */
  inbox: Array<{ text: string; bytes: number; invalidUtf8?: true }> | null = null;
  inboxHead = 0;
  inboxBytes = 0;
  /** The job (a command, the welcome) still running, which answers later; null when none. */
  inFlight: Promise<void> | null = null;
  /** Fakelag: the timer that runs the next line once the bucket has a token. */
  delay: NodeJS.Timeout | null = null;
  /** Output not yet written (null when none), and its bytes. */
  out: string[] | null = null;
  outBytes = 0;
  /**
   * When output was last written (performance.now() in whole ms), for outputCoalesceMs. Whole:
   * a small integer is kept in the object itself, a fraction in a 16-byte number of its own.
   */
  lastWriteAt = neverWritten;
  /**
   * While a labeled command's outcome is applied (labeled-response), what is sent to this client
   * is caught here and then sent as one labeled response (outbox.ts sendLabeled); else null.
   */
  labeled: Array<IrcMessage | SharedMessage> | null = null;
  /**
   * Multiclient across nodes: the node this client is relayed to (its user's home), which runs
   * its commands; its bytes go there unread (protocol.ts). Null for a client served here.
   */
  relay: number | null = null;
  /** No more output: the session is closing (or its sendq overflowed). */
  muted = false;
  departed = false;

  constructor(
    readonly id: number,
    /** The protocol's command context: its IRC config, state and clock. */
    readonly ctx: CommandContext,
    /** The protocol's counters, shared by every session. */
    readonly stats: IrcStats,
    readonly socket: Transport,
    client: ClientInit,
  ) {
    const irc = ctx.config;
    this.client = newClient(client, this);
    this.framer = new LineFramer({ maxLineBytes: irc.maxLineBytes, maxTagBytes: irc.maxTagBytes, maxReadBytes: irc.readqBytes });
    this.bucket = new TokenBucket({ burst: irc.floodBurstLines, ratePerSecond: irc.floodRateLinesPerSecond });
  }

  /**
   * Registered or not is the session machine's state (its `registered` tag), nowhere else: the
   * Client record reads it from here, so handlers see exactly what the machine decided.
   */
  get registered(): boolean {
    return this.actor !== null && this.actor.getSnapshot().hasTag('registered');
  }

  /** Registration is held open by CAP (the machine's `negotiating` tag): SASL may still come. */
  get negotiating(): boolean {
    return this.actor !== null && this.actor.getSnapshot().hasTag('negotiating');
  }

  /** An always-on user brought back at start (kept.ts): a transport of its own, not a connection. */
  get restored(): boolean {
    return this.socket instanceof RelayTransport && this.socket.init.restored === true;
  }
}
