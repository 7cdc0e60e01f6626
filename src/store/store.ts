// What the server keeps across restarts: accounts and their credentials, TLS certificate
// fingerprints, registered channels and network bans, and the chat history with its read
// markers (its own interface, src/history/history.ts, reached as `store.history`). An interface with two implementations and one contract test suite
// (test/store/contract.ts), as the network state has:
//   - sqliteStore.ts: SQLite in --data-dir, the default; its calls run on a worker thread, so a
//     slow disk never stalls the event loop;
//   - postgresStore.ts: PostgreSQL (--database postgres://...), for networks whose nodes run on
//     several machines.
//
// Rules every implementation keeps:
//   - every method answers later (a Promise), and one that decides something is ONE atomic step
//     (two nodes registering the same account at once: exactly one gets `true`);
//   - keys are compared exactly: the caller folds names (IRC's case mapping is the IRC layer's
//     business, not the store's) and passes the display spelling beside the key;
//   - a store that cannot be reached, or cannot write (disk full, PostgreSQL gone), rejects with
//     ChatError STORE_UNAVAILABLE, and nothing is half-written (each step is a transaction);
//   - nothing here is secret-free by accident: Credentials hold only derived keys and hashes.

import { ChatError } from '../core/errors.js';
import type { HistoryStore } from '../history/history.js';

/** Whether an error is the store being unreachable (as opposed to a bug). */
export function isStoreUnavailable(err: unknown): err is ChatError {
  return err instanceof ChatError && err.code === 'STORE_UNAVAILABLE';
}

/** An account as INFO and the server see it. */
export interface AccountRecord {
  /** Display spelling, as it was registered. */
  name: string;
  email: string | null;
  /** When it was registered (ms since the epoch). */
  registeredAt: number;
  /** TLS client certificate fingerprints (SHA-256, lowercase hex) it may log in with (SASL EXTERNAL). */
  certificates: string[];
}

/** What proves a password, never the password itself (src/identity/passwords.ts). */
export interface Credentials {
  /** The password's scrypt hash, in PHC string form (`$scrypt$ln=..,r=..,p=..$salt$hash`). */
  passwordHash: string;
  /** SCRAM-SHA-256 credentials as RFC 5802 stores them: salt, iterations, StoredKey, ServerKey (base64). */
  scram: ScramCredentials;
}

export interface ScramCredentials {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

/** A channel registered with ChanServ: its founder and what survives the channel emptying. */
export interface RegisteredChannel {
  /** Display spelling. */
  name: string;
  /** The founder's account, display spelling. */
  founder: string;
  registeredAt: number;
  topic: string | null;
  topicSetBy: string | null;
  topicSetAt: number | null;
  /** Flag modes, as letters in alphabetical order ('nt'). */
  modes: string;
  key: string | null;
  limit: number | null;
}

/** What of a registered channel changes after registration (topic, modes). */
export type ChannelChange = Partial<Pick<RegisteredChannel, 'topic' | 'topicSetBy' | 'topicSetAt' | 'modes' | 'key' | 'limit'>>;

/** A network ban (KLINE): a `nick!user@host` mask no one matching may connect with. */
export interface NetworkBan {
  /** As the operator wrote it. */
  mask: string;
  reason: string;
  /** The operator's name. */
  setBy: string;
  setAt: number;
  /** When it lapses (ms), or null for never. */
  expiresAt: number | null;
}

/** The outcome of adding a certificate fingerprint to an account. */
export type CertificateResult = 'added' | 'exists' | 'taken' | 'noAccount';

/** What an always-on account's user was, to bring it back after a restart. */
export interface KeptUser {
  channels: string[];
  user: string;
  host: string;
  realname: string;
  away: string | null;
  /**
   * When its last connection closed (ms), or the server stopped under it: what it missed since
   * is replayed to its next connection that cannot ask for it (src/irc/commands/alwaysOn.ts).
   * Null while a connection of it is open (one coming back clears it), and in a record kept
   * before this was: nothing is replayed then.
   */
  leftAt: number | null;
  /** The channels it was KICKed from while alone (since leftAt), told to its next connection. */
  kicks: KeptKick[];
}

/** A KICK an always-on user got while none of its connections was open. */
export interface KeptKick {
  channel: string;
  /** The kicker's nick. */
  by: string;
  reason: string;
  at: number;
}

export interface Store {
  /** Which implementation, for logs and the start-up line. */
  readonly kind: 'sqlite' | 'postgres';
  /**
   * This database's identity: a random id written once, at its first migration. Every node of
   * a network must report the same one (src/irc/service.ts refuses to join otherwise).
   */
  readonly id: string;
  /** Where it is, with no password in it (a path, or `postgres://user@host:port/db`). */
  readonly where: string;
  /** The chat history and read markers, in the same database. */
  readonly history: HistoryStore;

  /** Creates an account with its credentials in one step; false when `key` is taken. */
  createAccount(key: string, account: Omit<AccountRecord, 'certificates'>, credentials: Credentials): Promise<boolean>;
  account(key: string): Promise<AccountRecord | null>;
  credentials(key: string): Promise<Credentials | null>;
  /** Replaces an account's credentials (SET PASSWORD); false when there is no such account. */
  setCredentials(key: string, credentials: Credentials): Promise<boolean>;
  /** Whether the account stays on the network with no connection open (NickServ SET ALWAYSON); false when no such account. */
  alwaysOn(key: string): Promise<boolean>;
  /** Sets ALWAYSON; false when there is no such account. Turning it off forgets the kept channels. */
  setAlwaysOn(key: string, on: boolean): Promise<boolean>;
  /** Remembers what an always-on account's user is, to bring it back after a restart (else nothing). */
  keepUser(key: string, kept: KeptUser): Promise<void>;
  /** The always-on accounts' users kept, by account name: who to bring back when the server starts. */
  keptUsers(): Promise<Array<{ name: string; kept: KeptUser }>>;
  /**
   * Whether an always-on account's next connection that cannot ask for history is sent what it
   * missed (NickServ SET AUTOREPLAY-MISSED; on by default); false when no such account.
   */
  autoreplayMissed(key: string): Promise<boolean>;
  /** Sets AUTOREPLAY-MISSED; false when there is no such account. */
  setAutoreplayMissed(key: string, on: boolean): Promise<boolean>;
  /** One always-on account's kept user, or null (none kept, no such account, or not always-on). */
  keptUser(key: string): Promise<KeptUser | null>;
  /** Removes an account with its certificates and the channels it founded; false when none. */
  dropAccount(key: string): Promise<boolean>;

  /** Adds a fingerprint to an account; one fingerprint belongs to at most one account. */
  addCertificate(key: string, fingerprint: string): Promise<CertificateResult>;
  removeCertificate(key: string, fingerprint: string): Promise<boolean>;
  /** The account (display spelling) that holds this fingerprint, or null. */
  accountByCertificate(fingerprint: string): Promise<string | null>;

  /** Registers a channel to a founder's account (`founderKey`); false when already registered or no such account. */
  registerChannel(key: string, founderKey: string, channel: Omit<RegisteredChannel, 'founder'>): Promise<boolean>;
  channel(key: string): Promise<RegisteredChannel | null>;
  /** Changes what a registered channel keeps; false when it is not registered. */
  updateChannel(key: string, change: ChannelChange): Promise<boolean>;
  dropChannel(key: string): Promise<boolean>;
  /** The channels (display spelling) an account founded, sorted by key. */
  channelsFoundedBy(accountKey: string): Promise<string[]>;

  /** Adds a network ban under `key` (the folded mask); false when that mask is already banned. */
  addBan(key: string, ban: NetworkBan): Promise<boolean>;
  removeBan(key: string): Promise<boolean>;
  /** Every ban that has not lapsed at `now`, oldest first. */
  bans(now: number): Promise<NetworkBan[]>;

  /** Closes the database (the worker, the pool); later calls reject. */
  close(): Promise<void>;
}
