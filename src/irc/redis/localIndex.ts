// This node's side of the Redis state: which of its own clients are in which channel (folded
// name -> ids), so `localMembers` answers synchronously, and which channels it follows (receives
// what is said there). A channel is followed before this node's first member joins it and
// unfollowed once it has no member left and no join in flight, so a JOIN racing the last PART
// never ends up unfollowed.

import { nodeOf } from '../state/ids.js';
import { guard } from './redisClient.js';

export interface LocalIndexOptions {
  /** Clients with nodeOf(id) === nodeIndex are local; others are never indexed. */
  nodeIndex: number;
  follow: (channel: string) => void | Promise<void>;
  unfollow: (channel: string) => void | Promise<void>;
}

export class LocalIndex {
  private readonly nodeIndex: number;
  private readonly follow: (channel: string) => void | Promise<void>;
  private readonly unfollow: (channel: string) => void | Promise<void>;
  /** Folded channel -> this node's member ids, in the order they joined. */
  private readonly members = new Map<string, Set<number>>();
  /** Folded channel -> its `follow` (settled once following); present while followed. */
  private readonly followed = new Map<string, Promise<void>>();
  /** Folded channel -> this node's joins (and restores) of it in flight. */
  private readonly joining = new Map<string, number>();

  constructor(options: LocalIndexOptions) {
    this.nodeIndex = options.nodeIndex;
    this.follow = options.follow;
    this.unfollow = options.unfollow;
  }

  /** Folded channel -> this node's member ids. */
  channels(): ReadonlyMap<string, ReadonlySet<number>> {
    return this.members;
  }

  membersOf(folded: string): Iterable<number> {
    return this.members.get(folded) ?? [];
  }

  add(folded: string, clientId: number): void {
    if (nodeOf(clientId) !== this.nodeIndex) return;
    let members = this.members.get(folded);
    if (!members) this.members.set(folded, (members = new Set()));
    members.add(clientId);
  }

  drop(folded: string, clientId: number): void {
    const members = this.members.get(folded);
    if (!members) return;
    members.delete(clientId);
    if (members.size === 0) {
      this.members.delete(folded);
      this.unfollowIfIdle(folded);
    }
  }

  /** Takes `clientId` out of every channel it is indexed in. */
  dropEverywhere(clientId: number): void {
    for (const folded of [...this.members.keys()]) this.drop(folded, clientId);
  }

  /**
   * The channel `from` is now `to` (RENAME): this node's members of it move, in their order,
   * and `to` is followed before `from` is let go (what is said under the new name from now on
   * reaches them once the subscription is confirmed; see bus.ts for the moment in between).
   */
  rename(from: string, to: string): void {
    const moving = this.members.get(from);
    if (!moving) return;
    this.members.delete(from);
    for (const id of moving) this.add(to, id);
    // A failed subscribe (the subscriber is down, the link with it: members are told they may
    // miss messages) is forgotten, so the next join of the channel here asks again.
    this.followOnce(to).catch(() => this.forgetFollow(to));
    this.unfollowIfIdle(from);
  }

  /** A local join of `folded` starts: follow it first (once; concurrent joins share the wait). */
  async beginJoin(folded: string): Promise<void> {
    this.joining.set(folded, (this.joining.get(folded) ?? 0) + 1);
    const following = this.followOnce(folded);
    try {
      await guard(() => following);
    } catch (error) {
      // Not followed after all: the next join tries again.
      this.forgetFollow(folded, following);
      this.endJoin(folded);
      throw error;
    }
  }

  /** `folded`'s follow: the one under way or done, or a new one (each channel followed once). */
  private followOnce(folded: string): Promise<void> {
    let following = this.followed.get(folded);
    if (!following) {
      following = Promise.resolve().then(() => this.follow(folded));
      this.followed.set(folded, following);
    }
    return following;
  }

  /** A follow that failed is forgotten (unless another has replaced it since). */
  private forgetFollow(folded: string, following = this.followed.get(folded)): void {
    if (this.followed.get(folded) === following) this.followed.delete(folded);
  }

  endJoin(folded: string): void {
    const n = (this.joining.get(folded) ?? 1) - 1;
    if (n > 0) this.joining.set(folded, n);
    else this.joining.delete(folded);
    this.unfollowIfIdle(folded);
  }

  private unfollowIfIdle(folded: string): void {
    if (this.members.has(folded) || this.joining.has(folded) || !this.followed.has(folded)) return;
    this.followed.delete(folded);
    // Best effort: a failed unsubscribe only means messages for nobody here arrive and are dropped.
    void Promise.resolve().then(() => this.unfollow(folded)).catch(() => {});
  }
}
