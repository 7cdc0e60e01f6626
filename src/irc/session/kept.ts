// Always-on across restarts: when the server starts, each always-on account's user that the
// store kept (registration.ts writes it when the user is left alone, and when the server stops)
// and that is not already on the network is brought back, as the user itself would come back:
// a client with no socket (a RelayTransport whose output goes nowhere), logged in to the
// account, registers under the account's nick with the user@host and realname it had, joins
// each kept channel that still lets it in (a key, +i or a ban now keeps it out), sets its away
// message, and leaves, which leaves an always-on user on the network with no connection open.
// So every rule (bans, channel modes, who sees the JOIN, what the history keeps) is the
// server's usual one, and nothing here decides on its own.

import type { Logger } from '../../core/logger.js';
import type { Transport } from '../../core/transport.js';
import type { CommandContext } from '../commands/types.js';
import { RelayTransport, registration } from './relayTransport.js';

/** The address a user brought back shows where an address is asked for: it has none. */
const noAddress = '0.0.0.0';

/** Brings back the kept always-on users; resolves with how many were handed to the listener. */
export async function restoreKept(ctx: CommandContext, adopter: { adopt(client: Transport): number }, nodeIndex: number, logger: Logger): Promise<number> {
  let users: Awaited<ReturnType<CommandContext['store']['keptUsers']>>;
  try {
    users = await ctx.store.keptUsers();
  } catch (err) {
    logger.log('error', 'irc.keptUnavailable', { message: err instanceof Error ? err.message : String(err) });
    return 0;
  }
  let restored = 0;
  for (const { name, kept } of users) {
    // Already on the network (another node brought it back, or a connection of it came first).
    if ((await ctx.state.user(name)) !== null) continue;
    const init = { ip: noAddress, host: kept.host, tls: false, certfp: null, account: name, caps: [], capVersion: 0, user: kept.user, realname: kept.realname || '*', restored: true as const };
    const lines = kept.channels.map((channel) => `JOIN ${channel}`);
    if (kept.away !== null) lines.push(`AWAY :${kept.away}`);
    lines.push('QUIT');
    const transport = new RelayTransport(nodeIndex, 0, init, { out: () => {}, end: () => {} });
    adopter.adopt(transport);
    transport.receive(Buffer.from(`${registration(init)}${lines.join('\r\n')}\r\n`));
    restored++;
  }
  if (restored > 0) logger.log('info', 'irc.keptRestored', { users: restored });
  return restored;
}
