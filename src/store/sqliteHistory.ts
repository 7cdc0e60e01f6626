// The history (src/history/history.ts) on the SQLite store's connection, synchronous
// (better-sqlite3). Every call runs inside the store's worker thread (sqliteWorker.ts), reads
// included: a range of a million-entry channel is a few hundred µs of work that must not land
// on the server's event loop, and one thread owning the writes keeps them in order. Each call is
// one statement or one transaction (BEGIN IMMEDIATE: a second process sharing the file waits
// for the write lock up front instead of failing half-way). The schema and why each index
// exists: sql/sqlite/002-history.sql.

import type Database from 'better-sqlite3';
import type { HistoryEntry, HistoryTarget } from '../history/history.js';
import { combine, msgidsOf, planRange, time, whole, type Place, type RangeRequest, type Scan } from './historyRange.js';
import { conversationRows, entryColumns, entryOfRow, messagesFilter, valuesOf, type EntryRow } from './historyRows.js';

const entrySelect = `SELECT seq, ${entryColumns} FROM history_entries`;
/** One row's placeholders, in entryColumns order. */
const entryPlaces = '(?, ?, ?, ?, ?, ?, ?, ?, ?)';
/**
 * Rows per INSERT when a batch needs no per-row answer: one statement's call and bindings for
 * 32 rows instead of 32 (~15 % less CPU per row); 288 parameters, far below SQLite's limit.
 */
const appendChunkRows = 32;

export class SqliteHistory {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  append(entries: readonly HistoryEntry[]): void {
    if (entries.length === 0) return;
    const insert = this.stmt(`INSERT INTO history_entries (${entryColumns}) VALUES ${entryPlaces} ON CONFLICT (msgid) DO NOTHING`);
    // A channel's entries list no one in a conversation: which of them were kept (not already
    // there) does not matter, so they go in appendChunkRows at a time, one statement each.
    if (entries.every((e) => e.between === null)) {
      const chunk = this.stmt(`INSERT INTO history_entries (${entryColumns}) VALUES ${Array(appendChunkRows).fill(entryPlaces).join(', ')} ON CONFLICT (msgid) DO NOTHING`);
      this.db
        .transaction(() => {
          let i = 0;
          for (; i + appendChunkRows <= entries.length; i += appendChunkRows) {
            const values: unknown[] = [];
            for (let j = i; j < i + appendChunkRows; j++) values.push(...valuesOf(entries[j]!));
            chunk.run(values);
          }
          for (; i < entries.length; i++) insert.run(...valuesOf(entries[i]!));
        })
        .immediate();
      return;
    }
    const name = this.stmt(
      'INSERT INTO history_conversations (account, target, peer) VALUES (?, ?, ?) ON CONFLICT (account, target) DO UPDATE SET peer = excluded.peer',
    );
    const add = this.stmt('INSERT INTO history_conversations (account, target, peer) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    this.db
      .transaction(() => {
        const kept = entries.filter((e) => insert.run(...valuesOf(e)).changes === 1);
        const rows = conversationRows(kept);
        for (const r of rows.named) name.run(r.account, r.target, r.peer);
        for (const r of rows.unnamed) add.run(r.account, r.target, r.peer);
      })
      .immediate();
  }

  /** LATEST, BEFORE, AFTER, AROUND and BETWEEN (historyRange.ts plans each). */
  range(target: string, request: RangeRequest): HistoryEntry[] {
    const places = new Map<string, Place>();
    for (const msgid of msgidsOf(request)) {
      const place = this.stmt('SELECT at, seq FROM history_entries WHERE msgid = ? AND target = ?').get(msgid, target) as Place | undefined;
      if (place) places.set(msgid, place);
    }
    const scans = planRange(request, places);
    if (!scans) return [];
    return combine(
      request,
      scans.map((scan) => this.scan(target, scan)),
    );
  }

  /**
   * One range of the (target, at, seq) index; oldest first. The plain `at` bounds repeat the
   * row comparisons' first column: both databases bound an index range by them reliably.
   */
  private scan(target: string, { above, below, newest, limit, messagesOnly }: Scan): HistoryEntry[] {
    if (limit <= 0) return [];
    const order = newest ? 'DESC' : 'ASC';
    const rows = this
      .stmt(
        `${entrySelect} WHERE target = @target AND at >= @aboveAt AND (at, seq) > (@aboveAt, @aboveSeq)
           AND at <= @belowAt AND (at, seq) < (@belowAt, @belowSeq)${messagesOnly ? messagesFilter() : ''} ORDER BY at ${order}, seq ${order} LIMIT @limit`,
      )
      .all({ target, aboveAt: above.at, aboveSeq: above.seq, belowAt: below.at, belowSeq: below.seq, limit }) as EntryRow[];
    if (newest) rows.reverse();
    return rows.map(entryOfRow);
  }

  targets(channels: readonly string[], account: string | null, from: number, to: number, limit: number): HistoryTarget[] {
    // One probe of the (target, at) index per channel and conversation: its latest entry in [from, to).
    const rows = this
      .stmt(
        `SELECT target, peer, last_at FROM (
           SELECT c.target, c.peer,
             (SELECT e.at FROM history_entries e WHERE e.target = c.target AND e.at >= ? AND e.at < ?${messagesFilter('e')} ORDER BY e.at DESC LIMIT 1) AS last_at
           FROM (SELECT DISTINCT value AS target, NULL AS peer FROM json_each(?)
                 UNION ALL SELECT target, peer FROM history_conversations WHERE account = ?) c
         ) WHERE last_at IS NOT NULL ORDER BY last_at, target LIMIT ?`,
      )
      .all(time(from), time(to), JSON.stringify(channels), account, whole(limit)) as Array<{ target: string; peer: string | null; last_at: number }>;
    return rows.map((r) => ({ target: r.target, peer: r.peer, lastAt: r.last_at }));
  }

  entry(target: string, msgid: string): HistoryEntry | null {
    const row = this.stmt(`${entrySelect} WHERE msgid = ? AND target = ?`).get(msgid, target) as EntryRow | undefined;
    return row ? entryOfRow(row) : null;
  }

  remove(target: string, msgid: string): boolean {
    return this.stmt('DELETE FROM history_entries WHERE msgid = ? AND target = ?').run(msgid, target).changes === 1;
  }

  purge(target: string): number {
    return this.db.transaction(() => this.purgeTarget(target)).immediate();
  }

  /**
   * An account dropped (SqliteOps.dropAccount, inside its transaction): its private
   * conversations, for the other side too, and its read markers. A conversation is kept by its
   * two accounts' names (conversationKey), so a later account of the same name would otherwise
   * read them.
   */
  forgetAccount(account: string): void {
    const targets = this.stmt('SELECT target FROM history_conversations WHERE account = ?').all(account) as Array<{ target: string }>;
    for (const { target } of targets) this.purgeTarget(target);
    this.stmt('DELETE FROM history_read_markers WHERE account = ?').run(account);
  }

  /** purge's deletes, in whatever transaction the caller runs. */
  private purgeTarget(target: string): number {
    // Its count first: the delete's triggers then find no row to update, a million times over.
    this.stmt('DELETE FROM history_targets WHERE target = ?').run(target);
    this.stmt('DELETE FROM history_conversations WHERE target = ?').run(target);
    return this.stmt('DELETE FROM history_entries WHERE target = ?').run(target).changes;
  }

  moveTarget(from: string, to: string): void {
    if (from === to) return;
    this.db
      .transaction(() => {
        this.stmt('UPDATE history_entries SET target = ? WHERE target = ?').run(to, from);
        // A marker in both keeps the later.
        this.stmt(
          `INSERT INTO history_read_markers (account, target, at) SELECT account, ?, at FROM history_read_markers WHERE target = ?
           ON CONFLICT (account, target) DO UPDATE SET at = max(at, excluded.at)`,
        ).run(to, from);
        this.stmt('DELETE FROM history_read_markers WHERE target = ?').run(from);
      })
      .immediate();
  }

  trim(olderThan: number, maxPerTarget: number, maxRows: number): number {
    const most = whole(maxRows);
    const cap = whole(maxPerTarget);
    if (most === 0) return 0;
    let left = most;
    return this.db
      .transaction(() => {
        // By age: the oldest of every target, from the front of the (at / 1000) index.
        left -= this
          .stmt(
            `DELETE FROM history_entries WHERE seq IN (
               SELECT seq FROM history_entries WHERE at / 1000 <= @olderThan / 1000 AND at < @olderThan ORDER BY at / 1000 LIMIT @left)`,
          )
          .run({ olderThan: time(olderThan), left }).changes;
        // Over the cap: each such target's oldest, found by its count (history_targets).
        const over = left > 0 ? (this.stmt('SELECT target, entries FROM history_targets WHERE entries > ? LIMIT ?').all(cap, left) as Array<{ target: string; entries: number }>) : [];
        for (const { target, entries } of over) {
          if (left === 0) break;
          const n = Math.min(left, entries - cap);
          left -= this.stmt(
            'DELETE FROM history_entries WHERE seq IN (SELECT seq FROM history_entries WHERE target = ? ORDER BY at, seq LIMIT ?)',
          ).run(target, n).changes;
        }
        return most - left;
      })
      .immediate();
  }

  readMarker(account: string, target: string): number | null {
    const row = this.stmt('SELECT at FROM history_read_markers WHERE account = ? AND target = ?').get(account, target) as { at: number } | undefined;
    return row?.at ?? null;
  }

  setReadMarker(account: string, target: string, at: number): number {
    const row = this
      .stmt(
        `INSERT INTO history_read_markers (account, target, at) VALUES (?, ?, ?)
         ON CONFLICT (account, target) DO UPDATE SET at = max(at, excluded.at) RETURNING at`,
      )
      .get(account, target, time(at)) as { at: number };
    return row.at;
  }
}
