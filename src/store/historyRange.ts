// How the SQL stores answer a history range (LATEST, BEFORE, AFTER, AROUND, BETWEEN): pure, so
// SQLite and PostgreSQL plan every request the same way and differ only in running the scans.
// A target's entries are ordered by their place (at, then seq, the order of appending); each
// request becomes one or two scans of the entries strictly between two places, oldest or newest
// first, which the (target, at, seq) index answers as one range.

import type { HistoryBound, HistoryEntry, HistoryKinds, HistoryStore } from '../history/history.js';

/** A point in a target's order: entries compare by `at`, then by `seq`. */
export interface Place {
  at: number;
  seq: number;
}

/** Before every entry, and after every entry: seq starts at 1 in both stores. */
const lowestSeq = 0;
const highestSeq = Number.MAX_SAFE_INTEGER;
export const firstPlace: Place = { at: Number.MIN_SAFE_INTEGER, seq: lowestSeq };
export const lastPlace: Place = { at: Number.MAX_SAFE_INTEGER, seq: highestSeq };

/** A count or limit as the databases take it: a whole number, Infinity as the largest they compare exactly. */
export function whole(n: number): number {
  return Number.isNaN(n) ? 0 : Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.floor(n)));
}

/** A time (ms) as the databases take it: a whole number, ±Infinity as the earliest or latest. */
export function time(ms: number): number {
  return Number.isNaN(ms) ? 0 : Math.min(Number.MAX_SAFE_INTEGER, Math.max(Number.MIN_SAFE_INTEGER, Math.floor(ms)));
}

/** A history range request, as the five methods of HistoryStore ask it. */
export type RangeRequest = (
  | { kind: 'latest'; after: HistoryBound | null; limit: number }
  | { kind: 'before' | 'after' | 'around'; bound: HistoryBound; limit: number }
  | { kind: 'between'; from: HistoryBound; to: HistoryBound; limit: number }
) & { kinds?: HistoryKinds };

/** The entries strictly after `above` and strictly before `below`: the oldest `limit`, or the newest. */
export interface Scan {
  above: Place;
  below: Place;
  newest: boolean;
  limit: number;
  /** Only PRIVMSG and NOTICE (MESSAGE_COMMANDS). */
  messagesOnly: boolean;
}

/** Where each msgid bound of a request is in its target; a msgid missing from the map is not there. */
export type Places = ReadonlyMap<string, Place>;

/** The msgids a request's bounds name, to be placed before planning. */
export function msgidsOf(request: RangeRequest): string[] {
  const bounds =
    request.kind === 'latest' ? [request.after] : request.kind === 'between' ? [request.from, request.to] : [request.bound];
  return bounds.flatMap((b) => (b !== null && 'msgid' in b ? [b.msgid] : []));
}

/** Entries after `bound` are after this place; null for a msgid not in the target. */
function placeAfter(bound: HistoryBound, places: Places): Place | null {
  return 'msgid' in bound ? (places.get(bound.msgid) ?? null) : { at: time(bound.at), seq: highestSeq };
}

/** Entries before `bound` are before this place; null for a msgid not in the target. */
function placeBefore(bound: HistoryBound, places: Places): Place | null {
  return 'msgid' in bound ? (places.get(bound.msgid) ?? null) : { at: time(bound.at), seq: lowestSeq };
}

function earlier(a: Place, b: Place): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * The scans that answer `request`, in order; null when a msgid bound is not in the target (the
 * answer is []). The answer is `combine`'s of their results.
 */
export function planRange(request: RangeRequest, places: Places): Scan[] | null {
  const scans = planScans(request, places);
  const messagesOnly = request.kinds === 'messages';
  return scans && scans.map((scan) => ({ ...scan, messagesOnly }));
}

function planScans(request: RangeRequest, places: Places): Array<Omit<Scan, 'messagesOnly'>> | null {
  const limit = whole(request.limit);
  switch (request.kind) {
    case 'latest': {
      const above = request.after === null ? firstPlace : placeAfter(request.after, places);
      return above && [{ above, below: lastPlace, newest: true, limit }];
    }
    case 'before': {
      const below = placeBefore(request.bound, places);
      return below && [{ above: firstPlace, below, newest: true, limit }];
    }
    case 'after': {
      const above = placeAfter(request.bound, places);
      return above && [{ above, below: lastPlace, newest: false, limit }];
    }
    case 'around': {
      // Before the bound's place, and from it on: just after the place before it (seq are whole numbers).
      const at = placeBefore(request.bound, places);
      if (!at) return null;
      const from = { at: at.at, seq: at.seq - 1 };
      // The second scan takes `limit`: however few the first finds, combine fills up to limit.
      return [
        { above: firstPlace, below: at, newest: true, limit: Math.floor(limit / 2) },
        { above: from, below: lastPlace, newest: false, limit },
      ];
    }
    case 'between': {
      const above = placeAfter(request.from, places);
      const below = placeBefore(request.to, places);
      if (!above || !below) return null;
      if (earlier(above, below)) return [{ above, below, newest: false, limit }];
      // `from` is the later bound: the newest entries before it, down to `to`.
      return [{ above: placeAfter(request.to, places)!, below: placeBefore(request.from, places)!, newest: true, limit }];
    }
  }
}

/** The answer from the scans' results (each oldest first), as planRange planned them. */
export function combine(request: RangeRequest, results: HistoryEntry[][]): HistoryEntry[] {
  if (request.kind !== 'around') return results[0] ?? [];
  const older = results[0] ?? [];
  const rest = (results[1] ?? []).slice(0, whole(request.limit) - older.length);
  return [...older, ...rest];
}

/** HistoryStore's five range methods, each one request to `range`. */
export function rangeMethods(
  range: (target: string, request: RangeRequest) => Promise<HistoryEntry[]>,
): Pick<HistoryStore, 'latest' | 'before' | 'after' | 'around' | 'between'> {
  return {
    latest: (target, after, limit, kinds = 'all') => range(target, { kind: 'latest', after, limit, kinds }),
    before: (target, bound, limit, kinds = 'all') => range(target, { kind: 'before', bound, limit, kinds }),
    after: (target, bound, limit, kinds = 'all') => range(target, { kind: 'after', bound, limit, kinds }),
    around: (target, bound, limit, kinds = 'all') => range(target, { kind: 'around', bound, limit, kinds }),
    between: (target, from, to, limit, kinds = 'all') => range(target, { kind: 'between', from, to, limit, kinds }),
  };
}
