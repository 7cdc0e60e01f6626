// The life of a node's link to the shared network state (Redis), with `--redis`. The node keeps
// serving its own clients whatever the link does; what changes is what they are told and what
// the node does when the link comes back. The adapter (src/irc/redis/network.ts) turns the
// Redis client's connection events into `redis.*` events and provides the actions and the
// resync actor.
//
// Redis gone: local users get a NOTICE, commands that need the network get an error numeric
// (the network state rejects them), deliveries to other nodes are lost and logged. Redis back:
// the node re-registers its users and channels (a nick taken meanwhile is resolved as a
// netsplit collision: our user is renamed), re-subscribes, and tells its users.

import { fromPromise, setup } from 'xstate';

export interface RedisLinkContext {
  /** How long to wait before retrying a resync that failed with Redis up. */
  retryMs: number;
}

export type RedisLinkEvent =
  | { type: 'redis.ready' }
  | { type: 'redis.lost' }
  | { type: 'link.stop' };

export const redisLinkEventSources: Record<RedisLinkEvent['type'], string> = {
  'redis.ready': "the Redis client's `'ready'`: connected (again) and answering",
  'redis.lost': "the Redis client's `'close'` while it was ready: the connection is gone (it reconnects by itself)",
  'link.stop': 'the server is stopping (SIGINT/SIGTERM): the node leaves the network',
};

export const redisLinkMachine = setup({
  types: {
    context: {} as RedisLinkContext,
    events: {} as RedisLinkEvent,
    input: {} as { retryMs: number },
  },
  actions: {
    logUp: () => {},
    logDown: () => {},
    /** NOTICE to every local user: the network is unreachable; commands that need it fail. */
    noticeDown: () => {},
    /** NOTICE to every local user: the network is back. */
    noticeBack: () => {},
    logResyncFailed: () => {},
  },
  actors: {
    /** Re-register this node's users and channels; resolve nick collisions. */
    resync: fromPromise<void>(async () => {}),
  },
  delays: {
    retry: ({ context }) => context.retryMs,
  },
}).createMachine({
  id: 'redisLink',
  description: "A node's link to the shared network state.",
  context: ({ input }) => ({ retryMs: input.retryMs }),
  initial: 'connecting',
  on: { 'link.stop': '.stopped' },
  states: {
    connecting: {
      description: 'Connecting to Redis at start; the node is not serving yet.',
      on: { 'redis.ready': { target: 'up', actions: 'logUp' } },
    },
    up: {
      description: 'Connected: commands run against the network state; deliveries reach every node.',
      on: { 'redis.lost': { target: 'down', actions: ['logDown', 'noticeDown'] } },
    },
    down: {
      description: 'Redis unreachable: local users were told; commands that need the network get an error numeric.',
      on: { 'redis.ready': 'resyncing' },
    },
    resyncing: {
      description: 'Redis is back: re-registering this node\'s users and channels before saying so.',
      invoke: {
        src: 'resync',
        onDone: { target: 'up', actions: ['logUp', 'noticeBack'] },
        onError: { target: 'retrying', actions: 'logResyncFailed' },
      },
      on: { 'redis.lost': 'down' },
    },
    retrying: {
      description: 'The resync failed with Redis up: try again shortly.',
      after: { retry: 'resyncing' },
      on: { 'redis.lost': 'down' },
    },
    stopped: {
      description: 'The node left the network.',
      type: 'final',
    },
  },
});

export type RedisLinkMachine = typeof redisLinkMachine;
