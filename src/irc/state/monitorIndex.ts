// Who watches which nick (MONITOR), for this node's clients only: each node keeps its own, and
// a nick's coming and going reaches every node (the bus), each telling its own watchers. A
// client's list is its own business, not the network's, so it never goes to the shared state.
// Both directions are kept: by watcher (its list, its count against maxMonitorTargets, dropped
// at once when it leaves) and by folded nick (the watchers to tell). Synchronous, like
// `localMembers`: the router reads it while it delivers.

import { fold } from '../wire/casemap.js';

export class MonitorIndex {
  /** Watcher id -> folded nick -> the nick as the watcher spelled it. */
  private readonly byWatcher = new Map<number, Map<string, string>>();
  /** Folded nick -> watcher ids. */
  private readonly byNick = new Map<string, Set<number>>();

  /** Adds `nick` to the watcher's list; false when it was already there. */
  add(watcher: number, nick: string): boolean {
    const folded = fold(nick);
    let list = this.byWatcher.get(watcher);
    if (list?.has(folded)) return false;
    if (!list) this.byWatcher.set(watcher, (list = new Map()));
    list.set(folded, nick);
    let watchers = this.byNick.get(folded);
    if (!watchers) this.byNick.set(folded, (watchers = new Set()));
    watchers.add(watcher);
    return true;
  }

  remove(watcher: number, nick: string): void {
    const folded = fold(nick);
    const list = this.byWatcher.get(watcher);
    if (!list?.delete(folded)) return;
    if (list.size === 0) this.byWatcher.delete(watcher);
    this.dropWatcher(folded, watcher);
  }

  /** Empties the watcher's list (MONITOR C, or the watcher left). */
  clear(watcher: number): void {
    const list = this.byWatcher.get(watcher);
    if (!list) return;
    this.byWatcher.delete(watcher);
    for (const folded of list.keys()) this.dropWatcher(folded, watcher);
  }

  /** Whether `nick` (any spelling) is on the watcher's list. */
  has(watcher: number, nick: string): boolean {
    return this.byWatcher.get(watcher)?.has(fold(nick)) === true;
  }

  /** How many nicks the watcher has on its list. */
  count(watcher: number): number {
    return this.byWatcher.get(watcher)?.size ?? 0;
  }

  /** The watcher's list, as it spelled the nicks, in the order added. */
  list(watcher: number): string[] {
    return [...(this.byWatcher.get(watcher)?.values() ?? [])];
  }

  /** This node's clients watching `nick` (any spelling). */
  watchersOf(nick: string): Iterable<number> {
    return this.byNick.get(fold(nick)) ?? noWatchers;
  }

  private dropWatcher(folded: string, watcher: number): void {
    const watchers = this.byNick.get(folded);
    if (!watchers) return;
    watchers.delete(watcher);
    if (watchers.size === 0) this.byNick.delete(folded);
  }
}

const noWatchers: ReadonlySet<number> = new Set();
