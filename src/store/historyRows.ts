// The history rows both SQL stores read and write (src/store/sql/<kind>/002-history.sql), and
// what they become: the column names are the same in SQLite and PostgreSQL, so the mapping, and
// the rule for who is listed in which conversation, are written once.

import { MESSAGE_COMMANDS, type HistoryEntry } from '../history/history.js';

/**
 * The condition a `messages` range adds (HistoryKinds), on the `command` column of `table` (an
 * alias) when given: constants, not parameters, written as the partial index of
 * sql/<kind>/004-history-messages.sql writes it, so that the index serves it.
 */
export function messagesFilter(table?: string): string {
  return ` AND ${table === undefined ? '' : `${table}.`}command IN (${MESSAGE_COMMANDS.map((c) => `'${c}'`).join(', ')})`;
}

/** A `history_entries` row. */
export interface EntryRow {
  seq: number;
  target: string;
  msgid: string;
  at: number;
  command: string;
  source: string;
  account: string | null;
  /** JSON array. */
  params: string;
  /** JSON object; null when there are no tags. */
  tags: string | null;
  /** JSON array of two folded accounts, sender first; null for a channel. */
  between_accounts: string | null;
}

/** The columns of an entry, in `entryColumns` order. */
export type EntryValues = [string, string, number, string, string, string | null, string, string | null, string | null];

/** The columns append writes (seq is given by the database), in the order of `valuesOf`. */
export const entryColumns = 'target, msgid, at, command, source, account, params, tags, between_accounts';

export function valuesOf(e: HistoryEntry): EntryValues {
  const tags = Object.keys(e.tags).length > 0 ? JSON.stringify(e.tags) : null;
  const between = e.between ? JSON.stringify(e.between) : null;
  return [e.target, e.msgid, e.at, e.command, e.source, e.account, JSON.stringify(e.params), tags, between];
}

export function entryOfRow(row: EntryRow): HistoryEntry {
  return {
    target: row.target,
    msgid: row.msgid,
    at: row.at,
    command: row.command,
    source: row.source,
    account: row.account,
    params: JSON.parse(row.params) as string[],
    tags: row.tags === null ? {} : (JSON.parse(row.tags) as Record<string, string>),
    between: row.between_accounts === null ? null : (JSON.parse(row.between_accounts) as [string, string]),
  };
}

/** A `history_conversations` row: `account` took part in `target`, talking with `peer`. */
export interface ConversationRow {
  account: string;
  target: string;
  peer: string;
}

/**
 * The conversation rows newly kept entries write, as if each entry were kept in turn: the
 * recipient's row names the sender as the entry spells its account (`named`: replaces what the
 * row had); the sender's row, when it has none yet, names the recipient by its folded account
 * (`unnamed`: written only where no row is), until the recipient sends something. At most one
 * row per (account, target), the last word for it, sorted by account then target: two nodes
 * writing the same rows lock them in the same order.
 */
export function conversationRows(kept: readonly HistoryEntry[]): { named: ConversationRow[]; unnamed: ConversationRow[] } {
  const rows = new Map<string, ConversationRow & { named: boolean }>();
  for (const e of kept) {
    if (!e.between) continue;
    const [sender, recipient] = e.between;
    rows.set(`${recipient}\n${e.target}`, { account: recipient, target: e.target, peer: e.account ?? sender, named: true });
    const own = `${sender}\n${e.target}`;
    if (sender !== recipient && !rows.has(own)) rows.set(own, { account: sender, target: e.target, peer: recipient, named: false });
  }
  const sorted = [...rows.values()].sort((a, b) => compareText(a.account, b.account) || compareText(a.target, b.target));
  const strip = ({ account, target, peer }: ConversationRow): ConversationRow => ({ account, target, peer });
  return { named: sorted.filter((r) => r.named).map(strip), unnamed: sorted.filter((r) => !r.named).map(strip) };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
