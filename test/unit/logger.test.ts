// The human log is what an operator reads on a terminal: every event the server logs has a
// sentence there, not the `event {json}` fallback. The events are found in the source, so a new
// one without its sentence fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { humanLogger } from '../../src/core/logger.js';

const srcDir = new URL('../../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name === 'browser' ? [] : sources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

/** Every event name passed to a logger (`log('info', 'x.y', ...)`) or an outcome's `.log('x.y', ...)`. */
function loggedEvents(): Set<string> {
  const events = new Set<string>();
  for (const file of sources(srcDir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\blog\(\s*'(?:info|error)',\s*'([a-z]+\.[A-Za-z.]+)'/g)) events.add(m[1]!);
    for (const m of text.matchAll(/\.log\(\s*'([a-z]+\.[A-Za-z.]+)'/g)) events.add(m[1]!);
  }
  return events;
}

describe('the human log', () => {
  it('has a sentence for every event the server logs', () => {
    const events = loggedEvents();
    // The scan finds events (a broken pattern would pass with none).
    expect(events.size).toBeGreaterThan(50);
    for (const event of ['server.listening', 'store.unavailable', 'history.writeFailed', 'irc.operRevoked']) expect(events).toContain(event);
    const lines: string[] = [];
    const logger = humanLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) });
    const fallback: string[] = [];
    for (const event of events) {
      logger.log('info', event, { id: 1, message: 'm' });
      if (lines.at(-1)!.startsWith(`${event} {`)) fallback.push(event);
    }
    expect(fallback).toEqual([]);
  });
});
