// What a client gets when the server fails to run its command (src/irc/session/jobs.ts): a bug
// in a handler, thrown at once or later, is logged with the command and answered with 400
// ERR_UNKNOWNERROR naming the command, so the client is not left waiting for a reply that never
// comes; the other clients are not touched. Sessions record their writes (recordingSession.ts).
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/core/config.js';
import type { LogFields, Logger } from '../../../src/core/logger.js';
import type { CommandContext } from '../../../src/irc/commands/types.js';
import { JobRunner } from '../../../src/irc/session/jobs.js';
import type { Router } from '../../../src/irc/session/routing.js';
import { recordingSessions } from './recordingSession.js';

function world() {
  const ctx = { config: { ...defaultConfig.irc, outputCoalesceMs: 0 } } as unknown as CommandContext;
  const logged: Array<{ event: string; fields: LogFields }> = [];
  const logger: Logger = { log: (_level, event, fields) => void logged.push({ event, fields }) };
  // Only what JobRunner asks of the router for a session with no siblings.
  const router = { hasSiblings: () => false, syncSiblings: () => {} } as unknown as Router;
  return { jobs: new JobRunner(ctx, router, logger), logged, ...recordingSessions(ctx) };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a command the server fails to run', () => {
  it('is logged and answered with 400 naming it, whether the handler throws at once or later', async () => {
    const { jobs, session, writes, logged } = world();
    const [a, b, other] = [session(1), session(2), session(3)];
    jobs.run(a, 'NICKSERV', () => {
      throw new Error('Cannot find module hashWorker.js');
    });
    jobs.run(b, 'CHATHISTORY', () => Promise.reject(new Error('later')));
    await turn();
    await turn();
    expect(writes).toEqual([
      { session: 1, data: `:${defaultConfig.irc.serverName} 400 * NICKSERV :The server failed to run this command; the failure is logged\r\n` },
      { session: 2, data: `:${defaultConfig.irc.serverName} 400 * CHATHISTORY :The server failed to run this command; the failure is logged\r\n` },
    ]);
    expect(writes.some((w) => w.session === other.id)).toBe(false);
    expect(logged).toEqual([
      { event: 'irc.commandFailed', fields: { id: 1, command: 'NICKSERV', message: 'Cannot find module hashWorker.js' } },
      { event: 'irc.commandFailed', fields: { id: 2, command: 'CHATHISTORY', message: 'later' } },
    ]);
  });
});
