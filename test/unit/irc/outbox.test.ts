// When the outbox writes (src/irc/session/outbox.ts): a client's answer to its own command goes
// first in the flush that takes it (held for coalescing like the rest); one flush writes for
// at most outputSliceMs and goes on at the next turn. Sessions here have a transport that
// records its writes, so what each event-loop turn wrote can be read exactly; the sockets
// themselves are covered by test/integration/outputCoalesce.test.ts.
import { describe, expect, it, vi } from 'vitest';
import { defaultConfig } from '../../../src/core/config.js';
import { from } from '../../../src/irc/commands/common.js';
import type { CommandContext } from '../../../src/irc/commands/types.js';
import { answering, send, shared } from '../../../src/irc/session/outbox.js';
import { recordingSessions } from './recordingSession.js';

function world(irc: Partial<typeof defaultConfig.irc>) {
  return recordingSessions({ config: { ...defaultConfig.irc, ...irc } } as unknown as CommandContext);
}

/** One turn of the event loop: the outbox's pending setImmediate runs before this one. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the outbox', () => {
  it('writes a big fan-out across turns, a slice at a time, every client once', async () => {
    // A slice of 0 ms: every 64 writes the flush finds its time used up and yields.
    const { session, writes } = world({ outputCoalesceMs: 0, outputSliceMs: 0 });
    const members = Array.from({ length: 200 }, (_, i) => session(i + 1));
    const line = shared(from('talker!u@h', 'PRIVMSG', '#big', 'hello'), '');
    for (const m of members) send(m, line);
    expect(writes).toHaveLength(0);
    await turn();
    expect(writes).toHaveLength(64);
    await turn();
    expect(writes).toHaveLength(128);
    await turn();
    await turn();
    expect(writes.map((w) => w.session)).toEqual(members.map((m) => m.id));
    expect(new Set(writes.map((w) => w.data))).toEqual(new Set([':talker!u@h PRIVMSG #big :hello\r\n']));
  });

  it("writes a client's answer to its own command first, with what it was sent before, in order", async () => {
    const { session, writes } = world({ outputCoalesceMs: 0, outputSliceMs: 0 });
    const members = Array.from({ length: 200 }, (_, i) => session(i + 1));
    const pinger = members[150]!;
    for (const m of members) send(m, shared(from('joiner!u@h', 'JOIN', '#big'), ''));
    answering(pinger, () => send(pinger, from('irc.test', 'PONG', 'irc.test', 'token')));
    await turn();
    expect(writes).toHaveLength(64);
    expect(writes[0]).toEqual({ session: pinger.id, data: ':joiner!u@h JOIN #big\r\n:irc.test PONG irc.test token\r\n' });
    // The rest in the turns that follow (polled: a busy machine may take more than a few ms).
    await vi.waitFor(() => expect(writes).toHaveLength(200), { timeout: 2_000, interval: 5 });
    expect(writes.filter((w) => w.session === pinger.id)).toHaveLength(1);
  });

  it('holds an answer with the rest for the coalescing interval, then writes it first', async () => {
    const { session, writes } = world({ outputCoalesceMs: 100, outputSliceMs: 0 });
    const members = Array.from({ length: 200 }, (_, i) => session(i + 1));
    for (const m of members) send(m, shared(from('a!u@h', 'PRIVMSG', '#c', 'first'), ''));
    await vi.waitFor(() => expect(writes).toHaveLength(200), { timeout: 2_000, interval: 5 });
    // Every member was written just now: the next line waits for the interval, an answer too.
    for (const m of members) send(m, shared(from('a!u@h', 'PRIVMSG', '#c', 'second'), ''));
    const pinger = members[199]!;
    answering(pinger, () => send(pinger, from('irc.test', 'PONG', 'irc.test', 'now')));
    await sleep(40);
    expect(writes).toHaveLength(200);
    // At the tick the answered client goes first, its lines in the order they were sent.
    await vi.waitFor(() => expect(writes).toHaveLength(400), { timeout: 2_000, interval: 5 });
    expect(writes[200]).toEqual({ session: pinger.id, data: ':a!u@h PRIVMSG #c :second\r\n:irc.test PONG irc.test now\r\n' });
  });
});
