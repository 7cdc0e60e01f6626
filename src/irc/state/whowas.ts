// WHOWAS history for the in-memory state: the last `size` users who left, network-wide, in a
// fixed ring (a client cannot make it grow), looked up newest first.

import { fold } from '../wire/casemap.js';
import type { UserRecord, WhowasEntry } from './networkState.js';

export class WhowasRing {
  private readonly ring: WhowasEntry[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  /** A user left at `at`: its nick, user, host, realname and server are kept. */
  remember(user: Pick<UserRecord, 'nick' | 'user' | 'host' | 'realname' | 'server'>, at: number): void {
    const entry: WhowasEntry = { nick: user.nick, user: user.user, host: user.host, realname: user.realname, server: user.server, at };
    if (this.ring.length < this.size) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.size;
  }

  /** Up to `max` entries for `nick` (any case), newest first; copies. */
  lookup(nick: string, max: number): WhowasEntry[] {
    const folded = fold(nick);
    const out: WhowasEntry[] = [];
    const n = this.ring.length;
    // Newest first: walk backwards from the slot before the next write.
    for (let k = 1; k <= n && out.length < max; k++) {
      const e = this.ring[(this.next - k + n) % n];
      if (e && fold(e.nick) === folded) out.push({ ...e });
    }
    return out;
  }
}
