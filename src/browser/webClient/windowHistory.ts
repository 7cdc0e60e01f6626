// What one window of the web client knows of the server's history (history.ts uses it): the
// range of lines it has from it, what it asked for, and how far the account has read. Pure
// data and the small rules on it, apart from history.ts so that chat.ts can hold it without
// importing what imports chat.ts.

/** What one window knows of its history. */
export interface WindowHistory {
  /** The oldest and newest lines shown that the server can page from (ms, msgid when given). */
  oldest: { at: number; msgid?: string } | null;
  newest: { at: number; msgid?: string } | null;
  /** The server has nothing older than `oldest`. */
  exhausted: boolean;
  /** A request for older lines is on its way: one at a time. */
  loading: boolean;
  /** How far the account has read here (ms), as the server last said; null when not known. */
  readUpTo: number | null;
  /**
   * Where the "new messages" line is (ms): the read position when the window was not being
   * looked at. Reading it now (our own MARKREAD coming back) does not move it under the reader.
   */
  dividerAt: number | null;
  /** The last read position the page sent, and when (ms of its clock): at most one a second. */
  sentAt: number;
  sentUpTo: number;
}

export function newHistory(): WindowHistory {
  return { oldest: null, newest: null, exhausted: false, loading: false, readUpTo: null, dividerAt: null, sentAt: 0, sentUpTo: 0 };
}

/** A line with this msgid was shown at `at`: the window's range grows. */
export function noteLine(h: WindowHistory, at: number, msgid: string | undefined): void {
  const point = msgid === undefined ? { at } : { at, msgid };
  if (h.oldest === null || at < h.oldest.at) h.oldest = point;
  if (h.newest === null || at >= h.newest.at) h.newest = point;
}

/** Whether a line from the history at `at` is one the user has not read. */
export function isUnreadHistory(h: WindowHistory, at: number): boolean {
  return h.readUpTo !== null && at > h.readUpTo;
}
