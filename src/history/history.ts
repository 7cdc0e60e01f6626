// What the network remembers of what was said (IRCv3 draft/chathistory, draft/read-marker,
// draft/message-redaction): the entries, how a range of them is asked for, and the interface
// every history implementation keeps. Protocol-independent: the IRC layer decides what is kept
// (src/irc/commands/history*.ts) and who may read it; the stores only keep and find.
//
// Implementations: src/store/ (SQLite, the default, beside the accounts in --data-dir;
// PostgreSQL with --database, shared by every node) and memoryHistory.ts (tests, `--history
// memory`). One contract test suite holds them to the same answers (test/store/historyContract.ts).
//
// Order: a target's entries are ordered by (at, then the order they were appended in). One
// node appends its entries in the order it delivered them, so one sender's messages keep their
// order; two nodes' entries interleave by time.

/** One message or event as the history keeps it: enough to replay it exactly as delivered. */
export interface HistoryEntry {
  /**
   * The history it belongs to: a channel's folded name (`#chan`), or a private conversation's
   * key (conversationKey: the two folded account names).
   */
  target: string;
  /** Its msgid (IRCv3 message-ids): unique across the network, the key of REDACT and paging. */
  msgid: string;
  /** Its server-time, ms since the epoch: the same for every recipient. */
  at: number;
  /** `PRIVMSG`, `NOTICE`, `TAGMSG`; with event-playback also `JOIN`, `PART`, `QUIT`, `KICK`, `TOPIC`, `NICK`, `MODE`. */
  command: string;
  /** `nick!user@host` of the sender, as delivered. */
  source: string;
  /** The sender's account (display spelling), for account-tag; null when not logged in. */
  account: string | null;
  /** The parameters as delivered, the target (as the sender wrote it) first. */
  params: string[];
  /** Tags kept with it besides msgid, time and account: client-only tags (`+draft/reply`...), `bot`. */
  tags: Record<string, string>;
  /**
   * For a private message: the two folded account names of the conversation, the sender's
   * first, so that each side can list it (TARGETS) and the recipient's listing can name the
   * sender as `account` spells it; null for a channel.
   */
  between: readonly [string, string] | null;
}

/**
 * Which entries a range reads: every one, or only the messages (PRIVMSG, NOTICE) for a client
 * that did not ask for the events (IRCv3 draft/event-playback): `limit` then counts messages.
 */
export type HistoryKinds = 'all' | 'messages';

/** The commands `messages` reads. */
export const MESSAGE_COMMANDS: readonly string[] = ['PRIVMSG', 'NOTICE'];

/** Where a range starts or ends: a stored message (by msgid, in the same target) or a time (ms). */
export type HistoryBound = { msgid: string } | { at: number };

/** A conversation that has entries in a time range, for CHATHISTORY TARGETS. */
export interface HistoryTarget {
  /** The target key: a folded channel name, or a conversation key. */
  target: string;
  /**
   * For a conversation: the other side's account, in its display spelling as last stored (the
   * `account` of the latest entry it sent); its folded name while it has sent nothing. Null for
   * a channel.
   */
  peer: string | null;
  /** Its latest entry's time in the range (ms). */
  lastAt: number;
}

/** The key of the private conversation between two accounts (folded): the same from either side. */
export function conversationKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

/**
 * The history. Ranges are exclusive of their bounds unless said otherwise, and always returned
 * oldest first, at most `limit` entries. A msgid bound that is not in the target answers [].
 * Every method answers later; a store that cannot be reached rejects with STORE_UNAVAILABLE.
 */
export interface HistoryStore {
  /**
   * Keeps the entries, in this order, in one step (a transaction). A msgid already kept (in any
   * target: msgids are unique across the network), or twice in the batch, is kept once.
   */
  append(entries: readonly HistoryEntry[]): Promise<void>;

  /** The newest `limit` entries of `target`; with `after`, only those after it. */
  latest(target: string, after: HistoryBound | null, limit: number, kinds?: HistoryKinds): Promise<HistoryEntry[]>;
  /** The newest `limit` entries before `bound`. */
  before(target: string, bound: HistoryBound, limit: number, kinds?: HistoryKinds): Promise<HistoryEntry[]>;
  /** The oldest `limit` entries after `bound`. */
  after(target: string, bound: HistoryBound, limit: number, kinds?: HistoryKinds): Promise<HistoryEntry[]>;
  /**
   * The entries nearest `bound`: up to ⌊limit/2⌋ before it, then from it on (a msgid bound's
   * own entry included, first of them; a time bound's entries at that time too) up to `limit`
   * in all, so fewer before leaves room for more after.
   */
  around(target: string, bound: HistoryBound, limit: number, kinds?: HistoryKinds): Promise<HistoryEntry[]>;
  /**
   * The entries strictly between two bounds: when `from` is the earlier, the oldest `limit`
   * after it; when `from` is the later, the newest `limit` before it. A msgid bound and a time
   * bound at the same time: nothing is strictly between them.
   */
  between(target: string, from: HistoryBound, to: HistoryBound, limit: number, kinds?: HistoryKinds): Promise<HistoryEntry[]>;

  /**
   * Of `channels` (folded names) and the conversations of `account` (folded; null: none), those
   * with messages (PRIVMSG, NOTICE: not events) at or after `from` and before `to` (ms, from <
   * to), sorted by their latest message in that range, oldest first (equal times by target
   * key), the first `limit` of them.
   */
  targets(channels: readonly string[], account: string | null, from: number, to: number, limit: number): Promise<HistoryTarget[]>;

  /** One entry by its msgid in `target`, or null. */
  entry(target: string, msgid: string): Promise<HistoryEntry | null>;
  /** Forgets one entry (REDACT); false when it was not there. */
  remove(target: string, msgid: string): Promise<boolean>;
  /**
   * Forgets every entry of `target` (an operator's purge), and, for a conversation, that its two
   * accounts took part in it; answers how many entries. Read markers stay.
   */
  purge(target: string): Promise<number>;
  /**
   * A channel renamed: its entries and read markers are `to`'s from now on (folded names). Any
   * `to` already had are kept beside them, in order; of two markers of one account, the later.
   */
  moveTarget(from: string, to: string): Promise<void>;
  /**
   * Retention, one small step: forgets up to `maxRows` entries that are older than `olderThan`
   * (ms) or beyond the newest `maxPerTarget` of their target; answers how many (0: nothing left
   * to trim). Called in a loop, so no one step holds the database long. No age limit: 0 (or
   * -Infinity); no cap: Infinity.
   */
  trim(olderThan: number, maxPerTarget: number, maxRows: number): Promise<number>;

  /** The read marker (draft/read-marker) of `account` (folded) in `target`: a time (ms), or null. */
  readMarker(account: string, target: string): Promise<number | null>;
  /**
   * Moves the marker forward to `at` (never back: two connections of one account may race);
   * answers the marker as it is afterwards.
   */
  setReadMarker(account: string, target: string, at: number): Promise<number>;
}
