// The live view's pure side (src/browser/liveView/format.ts), in Node: what the pushed view
// becomes on the page, and that the page's copy of the view's shape still matches the
// server's. Its built script is one valid script.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { clockTime, countIn, duration, isIn, moreNote, sessionTitle, type ConnectionDetail, type LiveView } from '../../../src/browser/liveView/format.js';
import { pageDir } from '../../../src/core/pageFiles.js';
import type { Monitor } from '../../../src/ops/inspect/monitor.js';

const view = (live: number, shown: number, sessionMachine = 'connection'): LiveView => ({
  now: 0,
  server: { state: 'listening', address: null },
  counters: { live, accepted: live, closed: 0, turnedAway: 0, errors: 0 },
  statesCount: {},
  live: Array.from({ length: shown }, (_, id) => ({
    id, remote: '', state: '', openedAt: 0, lastEvent: '', lastEventAt: 0, closedAt: null, closeReason: null, reply: null,
  })),
  recent: [],
  chat: null,
  sessionMachine,
});

describe('the live view', () => {
  it('reads the same data the server pushes', () => {
    expectTypeOf<ReturnType<Monitor['view']>>().toExtend<LiveView>();
    expectTypeOf<NonNullable<ReturnType<Monitor['connection']>>>().toExtend<ConnectionDetail>();
  });

  it('shows durations in ms, s, then min and s', () => {
    expect([duration(850.4), duration(12_345), duration(247_000)]).toEqual(['850 ms', '12.3 s', '4 min 7 s']);
  });

  it('lights a diagram state for its own path and its children, and counts connections in it', () => {
    expect(isIn('open.awaitingReply.empty', 'open')).toBe(true);
    expect(isIn('open.awaitingReply', 'open.awaitingReply')).toBe(true);
    expect(isIn('opening', 'open')).toBe(false);
    const counts = { 'open.awaitingReply.empty': 2, 'open.awaitingReply.partial': 1, closing: 4 };
    expect(countIn(counts, 'open')).toBe(3);
    expect(countIn(counts, 'open.awaitingReply.partial')).toBe(1);
    expect(countIn(counts, 'closed')).toBe(0);
  });

  it('says how many live connections are not listed, and which session machine runs', () => {
    expect(moreNote(view(250, 200))).toBe('(newest 200 shown, 50 more)');
    expect(moreNote(view(3, 3))).toBe('');
    expect(sessionTitle(view(0, 0, 'ircSession'))).toBe('IRC session machine');
    expect(sessionTitle(view(0, 0))).toBe('Connection machine');
    expect(clockTime(Date.UTC(2026, 0, 1, 13, 4, 5, 67))).toBe('13:04:05.067');
  });

  it('is one valid script once built', () => {
    const bundle = readFileSync(path.join(pageDir('liveView'), 'app.js'), 'utf8');
    expect(() => new vm.Script(bundle)).not.toThrow();
  });
});
