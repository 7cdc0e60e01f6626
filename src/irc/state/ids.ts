// Client ids that name a client across the whole network: node index × 2^32 + the connection
// id in that node's process. Handlers and the network state deal in these ids only; which node
// holds a client is derivable from its id, so a message to a client on another node needs no
// lookup. A process without a shared network state is node 0: its client ids are its
// connection ids. 2^53 / 2^32 leaves room for two million nodes over a network's lifetime.

import { randomBytes } from 'node:crypto';

const NODE_SPAN = 2 ** 32;

/** The network-wide id of connection `connectionId` on node `nodeIndex`. */
export function clientIdOf(nodeIndex: number, connectionId: number): number {
  // Node 0 (every single-process server) returns the connection id itself, a small integer: the
  // product, though equal, is a floating-point number, which every record holding the id would
  // keep as a separate 16-byte heap number.
  if (nodeIndex === 0) return connectionId;
  return nodeIndex * NODE_SPAN + connectionId;
}

/** The node that holds the client. */
export function nodeOf(clientId: number): number {
  return Math.floor(clientId / NODE_SPAN);
}

/** The connection id of the client in its node's process. */
export function connectionOf(clientId: number): number {
  return clientId % NODE_SPAN;
}

/**
 * Message ids (IRCv3 msgid) unique across the network and its history: a random prefix drawn
 * when the process starts, then a counter. Node indexes are reused after a node goes, and
 * counters restart with a process, so neither alone would do; 72 random bits make two
 * processes drawing the same prefix as likely as guessing a 9-byte key.
 */
export function msgidSource(): () => string {
  const prefix = randomBytes(9).toString('base64url');
  let counter = 0;
  return () => `${prefix}${(++counter).toString(36)}`;
}
