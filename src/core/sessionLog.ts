// The log lines every session writes whatever its protocol: opened, failed at the socket
// level, closed with the machine's reason. Both session adapters provide these as their
// machines' log actions, so the operator reads the same lines for a greeting and an IRC client.

import type { Logger } from './logger.js';

/** What both session machines keep in their context about a connection's identity and end. */
export interface SessionLogContext {
  id: number;
  remote: string;
  closeReason: string | null;
  socketErrorCode: string | null;
}

const nothing = (): void => {};

export function sessionLogActions(logger: Logger) {
  // A silent logger (benchmarks, embedders) gets no-ops: the field objects are not even built.
  if (logger.silent) return { logOpened: nothing, logSocketError: nothing, logClosed: nothing };
  return {
    logOpened: ({ context }: { context: SessionLogContext }) =>
      logger.log('info', 'connection.opened', { id: context.id, remote: context.remote }),
    logSocketError: ({ context }: { context: SessionLogContext }) =>
      logger.log('info', 'connection.error', {
        id: context.id,
        remote: context.remote,
        code: 'SOCKET_ERROR',
        errno: context.socketErrorCode ?? 'UNKNOWN',
      }),
    logClosed: ({ context }: { context: SessionLogContext }) =>
      logger.log('info', 'connection.closed', {
        id: context.id,
        remote: context.remote,
        reason: context.closeReason ?? 'unknown',
      }),
  };
}
