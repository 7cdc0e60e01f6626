import { describe, expect, it } from 'vitest';
import { MemoryState } from '../../../src/irc/state/memoryState.js';
import { addUser, describeNetworkState, join, T } from './stateContract.js';

describeNetworkState('MemoryState', async (limits) => ({ state: new MemoryState(limits), close: async () => {} }));

describe('MemoryState', () => {
  it('answers every operation synchronously, so each is atomic by construction', async () => {
    const s = new MemoryState();
    await addUser(s, 1, 'a');
    const answers: unknown[] = [
      s.claimNick(2, 'b', T),
      s.user('a'),
      s.findUsers('*'),
      s.join(1, '#x', join),
      s.channel('#x'),
      s.members('#x'),
      s.membership('#x', 'a'),
      s.channelsOf('a'),
      s.setTopic(1, '#x', null),
      s.applyModes(1, '#x', [], { maxBans: 1, setBy: 'a', at: T }),
      s.maskLists('#x'),
      s.invite(1, '#x', 'a'),
      s.kick(1, '#x', 'b'),
      s.listChannels(),
      s.counts(),
      s.whowas('a', 1),
      s.part(1, '#x'),
      s.partAll(1),
      s.removeUser(2, T),
    ];
    for (const answer of answers) expect(answer).not.toBeInstanceOf(Promise);
  });
});
