// The history benchmark: `npm run bench:history [-- flags]`. Fills one channel with a million
// entries (and ten other targets with a tenth as many between them, interleaved) through
// HistoryStore.append in batches of 100, on SQLite in a temporary --data-dir and on a throwaway
// PostgreSQL (initdb in a temporary directory, test/store/postgresServer.ts; skipped with a
// message when PostgreSQL is not installed). Then, as the caller sees it (for SQLite the worker
// round trip included), one call at a time: `latest(#big, null, 100)` and `before(#big, {msgid:
// one from the middle half, a different one each call}, 100)`: p50, p99 and max. Also the fill
// rate and the bytes on disk per entry. Prints a table; not part of `npm test`.
//
// Flags: --entries N (entries of #big, default 1,000,000), --calls N (per question, default
// 2,000), --only sqlite|postgres, --fill append|server (PostgreSQL: `server` writes all but the
// first 100,000 entries with one INSERT ... SELECT FROM generate_series on the server, when the
// append rate would take too long; the measured reads are what matter). Every temporary
// directory and the postmaster are removed on the way out, SIGINT included.

import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { HistoryEntry, HistoryStore } from '../../src/history/history.js';
import { msgidSource } from '../../src/irc/state/ids.js';
import { openPostgresStore } from '../../src/store/postgresStore.js';
import { openSqliteStore, sqliteFileName } from '../../src/store/sqliteStore.js';
import type { Store } from '../../src/store/store.js';
import { startPostgres, type PgServer } from '../../test/store/postgresServer.js';
import { parseFlags, wholeNumber } from '../lib/flags.js';
import { percentileSorted } from '../lib/stats.js';

/** Entries per append: what one node's history writer would batch. */
const batchSize = 100;
/** Of every ten batches, one goes to the other targets. */
const otherEvery = 10;
const otherTargets = ['#other0', '#other1', '#other2', '#other3', '#other4', '#other5', '#other6', '#other7', 'alice bob', 'bob carol'];
/** PostgreSQL's --fill server: how many entries still go through append, for its rate. */
const appendSample = 100_000;
/** Start of the entries' times: one entry per ms from here. */
const startAt = Date.UTC(2026, 0, 1);

interface Result {
  kind: string;
  filled: number;
  fillRate: number;
  fillNote: string;
  bytesPerEntry: number;
  latest: number[];
  before: number[];
  plan: string;
}

/** A realistic entry: a nick, an account, a 60-odd character line, a reply tag on one in ten. */
function entryOf(target: string, msgid: string, at: number, i: number): HistoryEntry {
  const nick = `nick${i % 500}`;
  const conversation = target.includes(' ');
  const [a, b] = target.split(' ') as [string, string];
  return {
    target,
    msgid,
    at,
    command: 'PRIVMSG',
    source: `${nick}!~${nick}@user-${i % 500}.example.net`,
    account: conversation ? a : `Nick${i % 500}`,
    params: [conversation ? b : target, `line ${i}: the quick brown fox jumps over the lazy dog, again and again`],
    tags: i % 10 === 0 ? { '+draft/reply': `reply-${i - 1}` } : {},
    between: conversation ? [a, b] : null,
  };
}

/** Appends `entries` entries to #big (and a tenth as many to the others); answers how many in all and the middle msgids. */
async function fill(history: HistoryStore, entries: number, onProgress: (done: number) => void): Promise<{ total: number; middle: string[] }> {
  const nextId = msgidSource();
  const middle: string[] = [];
  let big = 0;
  let other = 0;
  let at = startAt;
  for (let b = 0; big < entries; b++) {
    const batch: HistoryEntry[] = [];
    if (b % otherEvery === otherEvery - 1) {
      for (let k = 0; k < batchSize; k++, other++) batch.push(entryOf(otherTargets[other % otherTargets.length]!, nextId(), at++, other));
    } else {
      for (let k = 0; k < batchSize && big < entries; k++, big++) {
        const msgid = nextId();
        if (big >= entries / 4 && big < (entries * 3) / 4 && big % 97 === 0) middle.push(msgid);
        batch.push(entryOf('#big', msgid, at++, big));
      }
    }
    await history.append(batch);
    if (b % 1000 === 0) onProgress(big + other);
  }
  return { total: big + other, middle };
}

/** Each call's time as the caller sees it, ms, sorted. */
async function timeCalls(calls: number, call: (i: number) => Promise<HistoryEntry[]>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const page = await call(i);
    times.push(performance.now() - started);
    if (page.length !== 100) throw new Error(`call ${i} answered ${page.length} entries, not 100`);
  }
  return times.sort((a, b) => a - b);
}

async function measure(
  kind: string,
  store: Store,
  entries: number,
  calls: number,
  prefill?: (from: number) => Promise<{ note: string; middle: string[] }>,
  beforeReads?: () => Promise<void>,
): Promise<Omit<Result, 'bytesPerEntry' | 'plan'>> {
  const progress = (done: number): void => void process.stderr.write(`\r${kind}: ${done.toLocaleString('en')} entries   `);
  const started = performance.now();
  const sampled = prefill ? Math.min(entries, appendSample) : entries;
  const appended = await fill(store.history, sampled, progress);
  const seconds = (performance.now() - started) / 1000;
  let { total, middle } = appended;
  let fillNote = 'append, batches of 100';
  if (prefill && sampled < entries) {
    const rest = await prefill(sampled);
    total += entries - sampled;
    middle = rest.middle;
    fillNote = rest.note;
  }
  await beforeReads?.();
  process.stderr.write(`\r${kind}: ${total.toLocaleString('en')} entries, measuring ${calls} calls of each\n`);
  const latest = await timeCalls(calls, () => store.history.latest('#big', null, 100));
  const before = await timeCalls(calls, (i) => store.history.before('#big', { msgid: middle[(i * 7919) % middle.length]! }, 100));
  return { kind, filled: total, fillRate: appended.total / seconds, fillNote, latest, before };
}

async function benchSqlite(entries: number, calls: number): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-history-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  try {
    const store = await openSqliteStore(dir);
    let result: Omit<Result, 'bytesPerEntry' | 'plan'>;
    try {
      result = await measure('sqlite', store, entries, calls);
    } finally {
      await store.close();
    }
    // Closed by its last connection, the WAL is checkpointed into the file and removed.
    const file = path.join(dir, sqliteFileName);
    const bytes = statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
    // The plan the reads get, to show they are one index range.
    const db = new Database(file, { readonly: true });
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT * FROM history_entries WHERE target = ? AND (at, seq) > (?, ?) AND (at, seq) < (?, ?)
         ORDER BY at DESC, seq DESC LIMIT 100`,
      )
      .all('#big', -1, 0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) as Array<{ detail: string }>;
    db.close();
    return { ...result, bytesPerEntry: bytes / result.filled, plan: plan.map((row) => row.detail).join('; ') };
  } finally {
    removeDir();
    process.off('exit', removeDir);
  }
}

async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

async function benchPostgres(server: PgServer, entries: number, calls: number, serverFill: boolean): Promise<Result> {
  const url = await server.freshDatabase();
  const store = await openPostgresStore(url);
  let result: Omit<Result, 'bytesPerEntry' | 'plan'>;
  try {
    // The rest of #big, written by the server itself, continuing the times and counters.
    const prefill = async (from: number): Promise<{ note: string; middle: string[] }> => {
      process.stderr.write(`\rpostgres: writing entries ${from.toLocaleString('en')}.. on the server (generate_series)\n`);
      const last = await sql(url, "SELECT max(at) AS at FROM history_entries");
      await sql(
        url,
        `INSERT INTO history_entries (target, msgid, at, command, source, account, params, tags, between_accounts)
         SELECT '#big', 'srv' || i, $1::bigint + i, 'PRIVMSG', 'nick' || (i % 500) || '!~nick' || (i % 500) || '@user-' || (i % 500) || '.example.net',
                'Nick' || (i % 500), json_build_array('#big', 'line ' || i || ': the quick brown fox jumps over the lazy dog, again and again')::text,
                CASE WHEN i % 10 = 0 THEN json_build_object('+draft/reply', 'reply-' || (i - 1))::text END, NULL
         FROM generate_series($2::bigint, $3::bigint - 1) AS i ORDER BY i`,
        [Number(last.rows[0].at) + 1, from, entries],
      );
      const quarter = Math.floor((entries - from) / 4);
      const middle = Array.from({ length: 200 }, (_, k) => `srv${from + quarter + Math.floor((k * 2 * quarter) / 200)}`);
      return { note: `append for the first ${from.toLocaleString('en')}, then generate_series on the server`, middle };
    };
    // ANALYZE, as autovacuum will have done long before a table holds a million rows.
    result = await measure('postgres', store, entries, calls, serverFill ? prefill : undefined, () => sql(url, 'VACUUM ANALYZE').then(() => {}));
    // The plan the reads got: the shape postgresHistory.ts's scan sends, for BEFORE a middle entry.
    const middle = await sql(url, "SELECT at, seq FROM history_entries WHERE target = '#big' ORDER BY at OFFSET $1 LIMIT 1", [Math.floor(entries / 2)]);
    const plan = await sql(
      url,
      `EXPLAIN SELECT * FROM history_entries WHERE target = '#big' AND at >= $1 AND (at, seq) > ($1, $2) AND at <= $3 AND (at, seq) < ($3, $4)
       ORDER BY at DESC, seq DESC LIMIT 100`,
      [Number.MIN_SAFE_INTEGER, 0, middle.rows[0].at, middle.rows[0].seq],
    );
    const bytes = await sql(
      url,
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'history%'`,
    );
    const planLine = (plan.rows as Array<{ 'QUERY PLAN': string }>)
      .map((row) => row['QUERY PLAN'].trim().replace(/\s+\(cost=.*$/, '').replace(/^->\s*/, ''))
      .filter((line) => !/^(Index Cond|Filter):/.test(line))
      .join(' <- ');
    return { ...result, bytesPerEntry: Number(bytes.rows[0].bytes) / result.filled, plan: planLine };
  } finally {
    await store.close();
  }
}

function ms(n: number): string {
  return n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1);
}

function report(results: Result[], entries: number, calls: number, notes: string[]): void {
  const rows = [
    ['store', 'fill (entries/s)', 'bytes/entry', 'LATEST 100 p50 / p99 / max (ms)', 'BEFORE 100 p50 / p99 / max (ms)'],
    ...results.map((r) => [
      r.kind,
      Math.round(r.fillRate).toLocaleString('en'),
      Math.round(r.bytesPerEntry).toString(),
      [50, 99, 100].map((p) => ms(percentileSorted(r.latest, p))).join(' / '),
      [50, 99, 100].map((p) => ms(percentileSorted(r.before, p))).join(' / '),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const others = (results[0]?.filled ?? entries) - entries;
  console.log(
    `\nHistory: ${entries.toLocaleString('en')} entries in #big and ${others.toLocaleString('en')} in ${otherTargets.length} other targets; ` +
      `${calls.toLocaleString('en')} calls of each question, one at a time, timed by the caller\n`,
  );
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('');
  for (const r of results) console.log(`${r.kind}: fill by ${r.fillNote}; the reads' plan: ${r.plan}`);
  for (const note of notes) console.log(note);
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), {
    entries: { type: 'string', default: '1000000' },
    calls: { type: 'string', default: '2000' },
    only: { type: 'string' },
    fill: { type: 'string', default: 'append' },
  });
  const entries = wholeNumber('--entries', flags.entries, 1_000, 100_000_000);
  const calls = wholeNumber('--calls', flags.calls, 1, 1_000_000);
  if (flags.only !== undefined && flags.only !== 'sqlite' && flags.only !== 'postgres') throw new Error('--only takes sqlite or postgres');
  if (flags.fill !== 'append' && flags.fill !== 'server') throw new Error('--fill takes append or server');
  const results: Result[] = [];
  const notes: string[] = [];
  if (flags.only !== 'postgres') results.push(await benchSqlite(entries, calls));
  if (flags.only !== 'sqlite') {
    let server: PgServer | null = null;
    try {
      server = await startPostgres();
    } catch (err) {
      notes.push(`postgres: skipped: ${(err as Error).message.split('\n')[0]}`);
    }
    if (server) {
      try {
        results.push(await benchPostgres(server, entries, calls, flags.fill === 'server'));
        notes.push('postgres: a throwaway cluster with fsync, synchronous_commit and full_page_writes off (as the tests run it): the fill rate is an upper bound.');
      } finally {
        await server.stop();
      }
    }
  }
  report(results, entries, calls, notes);
}

// Exit handlers (the temporary cluster's removal) run on Ctrl-C too.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
