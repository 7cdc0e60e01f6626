// Sessions for unit tests of the session layer (outbox, jobs): a real Session whose transport
// records each write, so what a turn of the event loop wrote can be read exactly.
import type { Transport } from '../../../src/core/transport.js';
import type { CommandContext } from '../../../src/irc/commands/types.js';
import { Session, type IrcStats } from '../../../src/irc/session/session.js';

export interface Written {
  session: number;
  data: string;
}

/** A maker of sessions on `ctx` whose writes all land in `writes`, in order. */
export function recordingSessions(ctx: CommandContext): { session(id: number): Session; writes: Written[] } {
  const stats: IrcStats = { registrations: 0, commands: 0, chatMessages: 0, linesOut: 0, bytesIn: 0, bytesOut: 0 };
  const writes: Written[] = [];
  const session = (id: number): Session => {
    const socket = {
      destroyed: false,
      writable: true,
      writableLength: 0,
      write(data: string) {
        writes.push({ session: id, data });
        return true;
      },
    } as unknown as Transport;
    return new Session(id, ctx, stats, socket, { id, ip: '127.0.0.1', host: 'localhost', tls: false, at: 0 });
  };
  return { session, writes };
}
