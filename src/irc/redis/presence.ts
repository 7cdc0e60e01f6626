// Which nodes are alive, by heartbeat with expiry, not by trust: every node refreshes a key
// that expires after nodeTimeoutMs, and checks the others' on the same beat. A node whose key
// has expired is dead; one survivor (the first to SET the reaper key NX) takes its users off
// the network (one script in the state) and tells everyone (QUITs). So within nodeTimeoutMs +
// one beat of a SIGKILL, the dead node's users are gone everywhere and their nicks free.
//
// Keys (all under the network's prefix):
//   presence:nodes       a set of node indexes that joined and have not been cleaned up
//   presence:seq         the counter node indexes are drawn from (INCR)
//   presence:<i>:alive   exists while node i beats (PX nodeTimeoutMs); holds node i's token, drawn
//                        when it claimed the index, so that a node whose index was claimed by
//                        another (Redis came back empty and a newcomer drew it first) finds out
//                        at its next beat instead of sharing it, and with it every client id
//   presence:<i>:name    the node's name, for the netsplit-style QUIT reason
//   presence:<i>:reaper  set NX by the node cleaning up node i, so only one does

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** heartbeat.lua: one beat's claim on our index (0 taken by another node, 1 ours, 2 had gone). */
const beatScript = readFileSync(new URL('./heartbeat.lua', import.meta.url), 'utf8');

/** A node's place in the network: its index, and the token that proves the index is its own. */
export interface NodeClaim {
  index: number;
  token: string;
}

export interface PresenceOptions {
  redis: Redis;
  prefix: string;
  nodeIndex: number;
  /** What allocateNodeIndex put in our key. */
  token: string;
  nodeName: string;
  heartbeatMs: number;
  nodeTimeoutMs: number;
  /** Node `index` (named `name`) is dead and this node won the right to clean it up. */
  onDeadNode(index: number, name: string): Promise<void>;
  /** A node's heartbeat is missing (told on every node, each beat until it is reaped). */
  onSilentNode?(index: number): void;
  /** Another node holds our index now (found at a beat): this node must leave the network. */
  onIndexTaken(): void;
  /**
   * Our key had gone when we beat: we were silent past nodeTimeoutMs (a stalled event loop, a
   * paused VM) and may have been taken for dead and our users removed, or Redis lost its data.
   */
  onRevived?(): void;
  /** A beat or a sweep failed (Redis unreachable): the link machine hears of it separately. */
  onError(error: unknown): void;
  /** After each beat that reached Redis (the network keeps its snapshot then). */
  afterBeat?(): Promise<void>;
}

/** Draws a node index no other node of the network holds (INCR, then a claim to be sure). */
export async function allocateNodeIndex(redis: Redis, prefix: string, nodeName: string, nodeTimeoutMs: number): Promise<NodeClaim> {
  const token = randomBytes(12).toString('base64url');
  for (;;) {
    const index = await redis.incr(`${prefix}presence:seq`);
    // After Redis lost its data the counter restarts while old nodes live on: skip indexes
    // that a live node still announces.
    const claimed = await redis.set(`${prefix}presence:${index}:alive`, token, 'PX', nodeTimeoutMs, 'NX');
    if (claimed === 'OK') {
      await redis.multi().set(`${prefix}presence:${index}:name`, nodeName).sadd(`${prefix}presence:nodes`, String(index)).exec();
      return { index, token };
    }
  }
}

export class Presence {
  private timer: NodeJS.Timeout | null = null;
  private beating = false;
  /** Our index was taken by another node: no more beats (they would fight over it). */
  private lost = false;
  /** When our last beat reached Redis (ms); 0 before the first. */
  private lastBeatAt = 0;
  /** No node is taken for dead before this (ms): see beat(). */
  private judgeFrom = 0;

  constructor(private readonly options: PresenceOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.timer.unref();
  }

  /** One beat: refresh our key (and our place in `nodes`), then look for dead nodes. */
  async beat(): Promise<void> {
    if (this.beating || this.lost) return;
    this.beating = true;
    const { redis, prefix, nodeIndex, nodeName, nodeTimeoutMs, token } = this.options;
    try {
      const ours = await redis.eval(beatScript, 1, `${prefix}presence:${nodeIndex}:alive`, token, String(nodeTimeoutMs));
      if (ours === 0) {
        this.lost = true;
        this.options.onIndexTaken();
        return;
      }
      if (ours === 2) this.options.onRevived?.();
      // We missed beats (Redis was away: a restart, a Sentinel failover; or our own loop
      // stalled): the other nodes most likely missed theirs for the same reason, and their keys
      // may have lapsed while they are alive, only cut off as we were. Whichever node came back
      // first would reap the others. So none is judged until each has had a node timeout to
      // beat again; one that really died meanwhile is reaped that much later.
      const now = Date.now();
      if (this.lastBeatAt !== 0 && now - this.lastBeatAt > 2 * this.options.heartbeatMs) this.judgeFrom = now + nodeTimeoutMs;
      this.lastBeatAt = now;
      await redis.multi().set(`${prefix}presence:${nodeIndex}:name`, nodeName).sadd(`${prefix}presence:nodes`, String(nodeIndex)).exec();
      if (now >= this.judgeFrom) await this.sweep();
      await this.options.afterBeat?.();
    } catch (err) {
      this.options.onError(err);
    } finally {
      this.beating = false;
    }
  }

  /** Looks for nodes whose key has lapsed: each is silent; the one node that wins the reap cleans up after it. */
  private async sweep(): Promise<void> {
    const { redis, prefix, nodeIndex, nodeTimeoutMs } = this.options;
    const nodes = await redis.smembers(`${prefix}presence:nodes`);
    for (const raw of nodes) {
      const index = Number(raw);
      if (index === nodeIndex || !Number.isSafeInteger(index)) continue;
      if ((await redis.exists(`${prefix}presence:${index}:alive`)) === 1) continue;
      // Every node hears that the node is silent; only one (the reaper) cleans up after it.
      this.options.onSilentNode?.(index);
      const won = await redis.set(`${prefix}presence:${index}:reaper`, String(nodeIndex), 'PX', Math.max(30_000, nodeTimeoutMs * 3), 'NX');
      if (won !== 'OK') continue;
      const name = (await redis.get(`${prefix}presence:${index}:name`)) ?? `node ${index}`;
      await this.options.onDeadNode(index, name);
      await redis.multi().srem(`${prefix}presence:nodes`, raw).del(`${prefix}presence:${index}:name`).exec();
    }
  }

  /** Leaving cleanly (SIGTERM): our users have quit; take our node out of the network. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const { redis, prefix, nodeIndex } = this.options;
    // The index is another node's now: its keys are not ours to delete.
    if (this.lost) return;
    await redis
      .multi()
      .del(`${prefix}presence:${nodeIndex}:alive`, `${prefix}presence:${nodeIndex}:name`)
      .srem(`${prefix}presence:nodes`, String(nodeIndex))
      .exec();
  }
}
