// What keeping history costs ours (issue 20): the same fan-out load twice in each run, once
// with `--history on` (the default: every channel message written to SQLite through the
// write-behind buffer, on the store's worker thread, which is in the server's process and so in
// its CPU) and once with `--history off`, each in a fresh --data-dir. After the `on` window the
// server has stopped (its buffer flushed, the store closed): the history's rows are counted and
// its bytes taken as the database file's growth over the `off` run's file, which has the same
// schema and no history, divided by the entries kept.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sqliteFileName } from '../../src/store/sqliteStore.js';
import type { IrcBench, Scenario } from './measure.js';
import type { IrcFigures, IrcThreadTimes } from './results.js';

export type HistoryForm = 'on' | 'off';

/** One window with history on or off, and what the store holds after it. */
export interface HistoryWindow {
  figures: IrcFigures;
  /** The server's threads over the window: the event loop against the rest (the store's worker among them). */
  threads: IrcThreadTimes;
  /** Entries in the history after the window (0 with history off). */
  entries: number;
  /** The store's files (database, WAL) after the server stopped. */
  storeBytes: number;
}

/** The SQLite files of a data dir: the database and, if a checkpoint left one, its WAL. */
function storeBytes(dir: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(path.join(dir, `${sqliteFileName}${suffix}`)).size;
    } catch {
      // No WAL after a clean close: nothing to add.
    }
  }
  return total;
}

function entriesIn(dir: string): number {
  const db = new Database(path.join(dir, sqliteFileName), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM history_entries').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** One window of `scenario` against ours with history `form`, in a data dir of its own. */
export async function measureHistory(bench: IrcBench, scenario: Scenario, form: HistoryForm): Promise<HistoryWindow> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-irc-history-${form}-`));
  try {
    const { figures, threads } = await bench.measureThreads('ours', scenario, { oursArgs: ['--data-dir', dir, '--history', form] });
    return { figures, threads, entries: form === 'on' ? entriesIn(dir) : 0, storeBytes: storeBytes(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes per kept message of one run: its `on` store's growth over its `off` store, per entry. */
export function bytesPerEntry(on: HistoryWindow, off: HistoryWindow): number {
  return on.entries > 0 ? (on.storeBytes - off.storeBytes) / on.entries : Number.NaN;
}
