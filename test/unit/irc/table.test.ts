// The command table carries everything about a command, and dispatch enforces it once, before
// the handler: an operator's command, a command behind a capability, the usable-before-
// registration column the session machine reads.
import { describe, expect, it } from 'vitest';
import { commands, dispatch, isUsablePreReg, preRegistrationCommands, type CommandSpec } from '../../../src/irc/commands/table.js';
import { withMember } from '../../../src/irc/commands/types.js';
import { parseMessage, serializeMessage } from '../../../src/irc/wire/message.js';
import { harness } from './harness.js';

const ran: string[] = [];
const table: Record<string, CommandSpec> = {
  ...commands,
  DIE: { handler: (_ctx, client) => (ran.push(`DIE by ${client.nick}`), { sends: [], effects: [] }), minParams: 0, oper: true },
  TAGGED: { handler: (_ctx, client) => (ran.push(`TAGGED by ${client.nick}`), { sends: [], effects: [] }), minParams: 1, cap: 'message-tags' },
};

async function run(h: ReturnType<typeof harness>, client: Parameters<typeof dispatch>[1], line: string): Promise<string[]> {
  const outcome = await dispatch(h.ctx, client, parseMessage(line)!, table);
  return outcome.sends.map((s) => serializeMessage(s.message).trimEnd());
}

describe('the command table', () => {
  it('refuses an operator command to a non-operator with 481 and runs it for one', async () => {
    ran.length = 0;
    const h = harness();
    const alice = await h.register('alice');
    expect(await run(h, alice, 'DIE')).toEqual([":irc.test 481 alice :Permission Denied- You're not an IRC operator"]);
    expect(ran).toEqual([]);
    alice.modes = withMember(alice.modes, 'o');
    expect(await run(h, alice, 'DIE')).toEqual([]);
    expect(ran).toEqual(['DIE by alice']);
  });

  it('treats a command behind a capability as unknown until the client enables it', async () => {
    ran.length = 0;
    const h = harness();
    const bob = await h.register('bob');
    expect(await run(h, bob, 'TAGGED x')).toEqual([':irc.test 421 bob TAGGED :Unknown command']);
    bob.caps = withMember(bob.caps, 'message-tags');
    expect(await run(h, bob, 'TAGGED')).toEqual([':irc.test 461 bob TAGGED :Not enough parameters']);
    expect(await run(h, bob, 'TAGGED x')).toEqual([]);
    expect(ran).toEqual(['TAGGED by bob']);
  });

  it('is the one list of commands usable before registration', () => {
    expect(preRegistrationCommands).toEqual(['CAP', 'PASS', 'NICK', 'USER', 'PING', 'PONG', 'QUIT', 'AUTHENTICATE', 'REGISTER']);
    expect(isUsablePreReg('nick')).toBe(true);
    expect(isUsablePreReg('JOIN')).toBe(false);
    expect(isUsablePreReg('__proto__')).toBe(false);
    expect(isUsablePreReg('constructor')).toBe(false);
  });
});

describe('HELP', () => {
  it('has help text for every command in the table, and for nothing else', async () => {
    const { helpText } = await import('../../../src/irc/commands/helpText.js');
    expect(Object.keys(helpText).sort()).toEqual(Object.keys(commands).sort());
    for (const lines of Object.values(helpText)) {
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThan(400);
    }
  });

  it('answers 704/705/706 on a command, the list alone, and 524 for no such topic', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'HELP privmsg')).to(alice)).toEqual([
      ':irc.test 704 alice PRIVMSG :PRIVMSG <target>{,<target>} :<text>',
      expect.stringMatching(/^:irc\.test 705 alice PRIVMSG :A message to channels or nicks/),
      ':irc.test 706 alice PRIVMSG :End of /HELP',
    ]);
    const index = (await h.run(alice, 'HELPOP')).to(alice);
    expect(index[0]).toBe(':irc.test 704 alice * :HELP <command> for help on one of these commands:');
    expect(index.join(' ')).toContain(' JOIN ');
    expect((await h.run(alice, 'HELP FROB')).to(alice)).toEqual([':irc.test 524 alice FROB :No help available on this topic']);
    expect((await h.run(alice, 'HELP constructor')).commands(alice)).toEqual(['524']);
  });
});
