// Runs every case of the ircdocs/parser-tests vectors we use (converted to JSON; see
// test/data/parser-tests/README.md) against the pure IRC protocol layer.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchesMask } from '../../src/irc/wire/casemap.js';
import { parseMessage, serializeMessage, splitUserhost, type IrcMessage } from '../../src/irc/wire/message.js';

interface Atoms {
  tags?: Record<string, string>;
  source?: string;
  verb: string;
  params?: string[];
}

function load<T>(name: string): T[] {
  const url = new URL(`../data/parser-tests/${name}.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { tests: T[] }).tests;
}

const splitCases = load<{ input: string; atoms: Atoms }>('msg-split');
const joinCases = load<{ desc: string; atoms: Atoms; matches: string[] }>('msg-join');
const userhostCases = load<{ source: string; atoms: { nick?: string; user?: string; host?: string } }>('userhost-split');
const maskCases = load<{ mask: string; matches: string[]; fails: string[] }>('mask-match');

/** The data's atoms as our message: a missing key is no tags, no source, no params. */
function fromAtoms(a: Atoms): IrcMessage {
  return { tags: a.tags ?? {}, source: a.source ?? null, command: a.verb, params: a.params ?? [] };
}

describe('parser-tests data set', () => {
  // Every case runs; none is skipped (each choice in message.ts and casemap.ts agrees with the
  // data). A case we ever decide to differ on belongs in a named list here, with its reason.
  it('holds every case of the four files, so none is dropped silently', () => {
    expect([splitCases.length, joinCases.length, userhostCases.length, maskCases.length]).toEqual([35, 18, 7, 6]);
  });
});

describe('msg-split: parseMessage', () => {
  for (const c of splitCases) {
    it(`splits ${JSON.stringify(c.input)}`, () => {
      expect(parseMessage(c.input)).toEqual(fromAtoms(c.atoms));
    });
  }
});

describe('msg-join: serializeMessage', () => {
  for (const c of joinCases) {
    it(`joins: ${c.desc}`, () => {
      const wire = serializeMessage(fromAtoms(c.atoms));
      expect(wire.endsWith('\r\n')).toBe(true);
      const line = wire.slice(0, -2);
      // Several wire forms are valid: ours must be one the data lists, and must mean the same
      // message as every one it lists.
      expect(c.matches).toContain(line);
      const reparsed = parseMessage(line);
      expect(reparsed).toEqual(fromAtoms(c.atoms));
      for (const m of c.matches) expect(parseMessage(m)).toEqual(reparsed);
    });
  }
});

describe('userhost-split: splitUserhost', () => {
  for (const c of userhostCases) {
    it(`splits ${JSON.stringify(c.source)}`, () => {
      const { nick = '', user = '', host = '' } = c.atoms;
      expect(splitUserhost(c.source)).toEqual({ nick, user, host });
    });
  }
});

describe('mask-match: matchesMask', () => {
  for (const c of maskCases) {
    it(`matches ${JSON.stringify(c.mask)} against exactly its listed names`, () => {
      for (const name of c.matches) expect(matchesMask(c.mask, name), name).toBe(true);
      for (const name of c.fails) expect(matchesMask(c.mask, name), name).toBe(false);
    });
  }
});
