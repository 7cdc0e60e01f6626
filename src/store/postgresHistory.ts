// The history (src/history/history.ts) on PostgreSQL, through the store's pool and its error
// mapping (postgresStore.ts). A batch is appended by one INSERT ... SELECT FROM unnest(...), in
// the batch's order, skipping msgids already kept, in one transaction with the conversations it
// names. Ranges are planned once for both SQL stores (historyRange.ts) and run as ranges of the
// (target, at, seq) index; trimming is one statement at a time, each deciding from what it sees
// itself, so two nodes trimming at once never trim more than asked. The schema and why each
// index exists: sql/postgres/002-history.sql.

import type pg from 'pg';
import type { PoolClient } from 'pg';
import type { HistoryEntry, HistoryStore } from '../history/history.js';
import { combine, msgidsOf, planRange, rangeMethods, time, whole, type Place, type RangeRequest, type Scan } from './historyRange.js';
import { conversationRows, entryColumns, entryOfRow, messagesFilter, valuesOf, type ConversationRow, type EntryRow } from './historyRows.js';

/** What the history needs of the store (postgresStore.ts gives its own). */
export interface PostgresAccess {
  /** Runs one step; PostgreSQL unreachable becomes STORE_UNAVAILABLE, naming the step. */
  step<T>(what: string, body: () => Promise<T>): Promise<T>;
  /** One statement on any pooled connection. */
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** A transaction on one connection. */
  transaction<T>(body: (client: PoolClient) => Promise<T>): Promise<T>;
}

/**
 * How often a history write is tried when PostgreSQL chose it as a deadlock's victim (40P01) or
 * could not serialise it (40001). Appends add to each target's count in target order, but a
 * purge or a rename racing a trim on another node can still meet one the other way round; such
 * a transaction was rolled back whole, so running it again is safe.
 */
const deadlockTries = 3;

async function retrying<T>(body: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await body();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= deadlockTries || (code !== '40P01' && code !== '40001')) throw err;
    }
  }
}

const entrySelect = `SELECT seq, ${entryColumns} FROM history_entries`;

/** The rows' columns, one array each: unnest() takes a batch as nine arrays, whatever its length. */
function columnsOf<T extends unknown[]>(rows: readonly T[], width: number): unknown[][] {
  const columns: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) row.forEach((value, i) => columns[i]!.push(value));
  return columns;
}

/** purge's deletes, for these targets, in `client`'s transaction: how many entries went. */
async function purgeTargets(client: PoolClient, targets: string[]): Promise<number> {
  await client.query('DELETE FROM history_conversations WHERE target = ANY($1)', [targets]);
  return (await client.query('DELETE FROM history_entries WHERE target = ANY($1)', [targets])).rowCount ?? 0;
}

/**
 * An account dropped (postgresStore.ts dropAccount, in its transaction): its private
 * conversations, for the other side too, and its read markers. A conversation is kept by its
 * two accounts' names (conversationKey), so a later account of the same name would otherwise
 * read them.
 */
export async function forgetAccount(client: PoolClient, account: string): Promise<void> {
  const { rows } = await client.query<{ target: string }>('SELECT target FROM history_conversations WHERE account = $1', [account]);
  await purgeTargets(client, rows.map((r) => r.target));
  await client.query('DELETE FROM history_read_markers WHERE account = $1', [account]);
}

async function writeConversations(client: PoolClient, rows: ConversationRow[], replace: boolean): Promise<void> {
  if (rows.length === 0) return;
  const onConflict = replace ? 'ON CONFLICT (account, target) DO UPDATE SET peer = excluded.peer' : 'ON CONFLICT DO NOTHING';
  await client.query(
    `INSERT INTO history_conversations (account, target, peer)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ${onConflict}`,
    columnsOf(rows.map((r) => [r.account, r.target, r.peer]), 3),
  );
}

export function postgresHistory({ step, query, transaction }: PostgresAccess): HistoryStore {
  /**
   * One range of the (target, at, seq) index; oldest first. The plain `at` bounds repeat the row
   * comparisons' first column: without them PostgreSQL misjudges how many rows two row
   * comparisons leave (before ANALYZE has seen the table, it sorted a whole target to answer 100).
   */
  async function scan(target: string, { above, below, newest, limit, messagesOnly }: Scan): Promise<HistoryEntry[]> {
    if (limit <= 0) return [];
    const order = newest ? 'DESC' : 'ASC';
    const { rows } = await query(
      `${entrySelect} WHERE target = $1 AND at >= $2 AND (at, seq) > ($2, $3) AND at <= $4 AND (at, seq) < ($4, $5)${messagesOnly ? messagesFilter() : ''}
       ORDER BY at ${order}, seq ${order} LIMIT $6`,
      [target, above.at, above.seq, below.at, below.seq, limit],
    );
    if (newest) rows.reverse();
    return (rows as EntryRow[]).map(entryOfRow);
  }

  const range = (target: string, request: RangeRequest): Promise<HistoryEntry[]> =>
    step('reading history', async () => {
      const places = new Map<string, Place>();
      const msgids = msgidsOf(request);
      if (msgids.length > 0) {
        const { rows } = await query('SELECT msgid, at, seq FROM history_entries WHERE msgid = ANY($1::text[]) AND target = $2', [msgids, target]);
        for (const row of rows as Array<Place & { msgid: string }>) places.set(row.msgid, { at: row.at, seq: row.seq });
      }
      const scans = planRange(request, places);
      if (!scans) return [];
      const results: HistoryEntry[][] = [];
      for (const s of scans) results.push(await scan(target, s));
      return combine(request, results);
    });

  return {
    append: (entries) =>
      step('appending history', () =>
        retrying(() =>
          transaction(async (client) => {
            if (entries.length === 0) return;
            // WITH ORDINALITY ... ORDER BY: seq is drawn in the batch's order.
            const { rows } = await client.query(
              `INSERT INTO history_entries (${entryColumns})
               SELECT ${entryColumns}
               FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                 WITH ORDINALITY AS batch(${entryColumns}, n)
               ORDER BY n
               ON CONFLICT (msgid) DO NOTHING RETURNING msgid`,
              columnsOf(entries.map(valuesOf), 9),
            );
            // A msgid twice in the batch was kept once, the first time.
            const inserted = new Set((rows as Array<{ msgid: string }>).map((r) => r.msgid));
            const kept = entries.filter((e) => inserted.delete(e.msgid));
            const conversations = conversationRows(kept);
            await writeConversations(client, conversations.named, true);
            await writeConversations(client, conversations.unnamed, false);
          }),
        ),
      ),

    ...rangeMethods(range),

    targets: (channels, account, from, to, limit) =>
      step('listing history targets', async () => {
        // One probe of the (target, at, seq) index per channel and conversation: its latest entry in [from, to).
        const { rows } = await query(
          `SELECT target, peer, last_at FROM (
             SELECT c.target, c.peer,
               (SELECT e.at FROM history_entries e WHERE e.target = c.target AND e.at >= $3 AND e.at < $4${messagesFilter('e')} ORDER BY e.at DESC LIMIT 1) AS last_at
             FROM (SELECT DISTINCT unnest($1::text[]) COLLATE "C" AS target, NULL::text AS peer
                   UNION ALL SELECT target, peer FROM history_conversations WHERE account = $2) c
           ) listed WHERE last_at IS NOT NULL ORDER BY last_at, target LIMIT $5`,
          [channels, account, time(from), time(to), whole(limit)],
        );
        return (rows as Array<{ target: string; peer: string | null; last_at: number }>).map((r) => ({ target: r.target, peer: r.peer, lastAt: r.last_at }));
      }),

    entry: (target, msgid) =>
      step('reading a history entry', async () => {
        const { rows } = await query(`${entrySelect} WHERE msgid = $1 AND target = $2`, [msgid, target]);
        const row = rows[0] as EntryRow | undefined;
        return row ? entryOfRow(row) : null;
      }),

    remove: (target, msgid) =>
      step('removing a history entry', () =>
        retrying(async () => (await query('DELETE FROM history_entries WHERE msgid = $1 AND target = $2', [msgid, target])).rowCount === 1),
      ),

    purge: (target) => step('purging history', () => retrying(() => transaction((client) => purgeTargets(client, [target])))),

    moveTarget: (from, to) =>
      step('moving history', () =>
        retrying(() =>
          transaction(async (client) => {
            if (from === to) return;
            await client.query('UPDATE history_entries SET target = $2 WHERE target = $1', [from, to]);
            // A marker in both keeps the later.
            await client.query(
              `INSERT INTO history_read_markers (account, target, at) SELECT account, $2, at FROM history_read_markers WHERE target = $1
               ON CONFLICT (account, target) DO UPDATE SET at = GREATEST(history_read_markers.at, excluded.at)`,
              [from, to],
            );
            await client.query('DELETE FROM history_read_markers WHERE target = $1', [from]);
          }),
        ),
      ),

    trim: (olderThan, maxPerTarget, maxRows) =>
      step('trimming history', async () => {
        const most = whole(maxRows);
        const cap = whole(maxPerTarget);
        let left = most;
        if (left === 0) return 0;
        // By age: the oldest of every target, from the front of the (at / 1000) index.
        const old = await retrying(() =>
          query(
            `DELETE FROM history_entries WHERE seq IN (
               SELECT seq FROM history_entries WHERE at / 1000 <= $1::bigint / 1000 AND at < $1 ORDER BY at / 1000 LIMIT $2)`,
            [time(olderThan), left],
          ),
        );
        left -= old.rowCount ?? 0;
        if (left === 0) return most;
        // Over the cap: each such target's oldest. The count is read in the deleting statement
        // itself, so a node trimming the same target at the same moment is not counted twice.
        const over = await query('SELECT target FROM history_targets WHERE entries > $1 ORDER BY target LIMIT $2', [cap, left]);
        for (const { target } of over.rows as Array<{ target: string }>) {
          const gone = await retrying(() =>
            query(
              `DELETE FROM history_entries WHERE seq IN (
                 SELECT seq FROM history_entries WHERE target = $1 ORDER BY at, seq
                 LIMIT LEAST($3::bigint, GREATEST(0, (SELECT entries FROM history_targets WHERE target = $1) - $2::bigint)))`,
              [target, cap, left],
            ),
          );
          left -= gone.rowCount ?? 0;
          if (left === 0) break;
        }
        return most - left;
      }),

    readMarker: (account, target) =>
      step('reading a read marker', async () => {
        const { rows } = await query('SELECT at FROM history_read_markers WHERE account = $1 AND target = $2', [account, target]);
        return (rows[0]?.at as number | undefined) ?? null;
      }),

    setReadMarker: (account, target, at) =>
      step('setting a read marker', async () => {
        const { rows } = await query(
          `INSERT INTO history_read_markers (account, target, at) VALUES ($1, $2, $3)
           ON CONFLICT (account, target) DO UPDATE SET at = GREATEST(history_read_markers.at, excluded.at) RETURNING at`,
          [account, target, time(at)],
        );
        return rows[0].at as number;
      }),
  };
}
