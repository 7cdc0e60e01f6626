// The Lua copy of the case mapping (lua/lib.lua's fold and matches, which bans and WHO masks use
// inside Redis) against the TypeScript one (casemap.ts, which MemoryState and the rest of the
// server use), run in a real redis-server: a table of cases, then generated ones.

import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luaLibrary } from '../../src/irc/redis/scripts.js';
import { fold, matchesMask } from '../../src/irc/wire/casemap.js';
import { startRedis, type RedisServer } from './redisServer.js';

/** ARGV: JSON [[mask, name], ...]; answers JSON [[fold(name), matches(mask, name)], ...]. */
const probe = `
local out = {}
for i, c in ipairs(cjson.decode(ARGV[1])) do out[i] = { fold(c[2]), matches(c[1], c[2]) } end
return cjson.encode(out)
`;

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
  await redis.connect();
  redis.defineCommand('casemapProbe', { numberOfKeys: 1, lua: `${luaLibrary}\n${probe}` });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

type Case = [mask: string, name: string];

/** What Lua answers for each case, as [fold(name), matches(mask, name)]. */
async function inLua(cases: Case[]): Promise<Array<[string, boolean]>> {
  const call = (redis as unknown as Record<string, (key: string, arg: string) => Promise<string>>).casemapProbe!;
  return JSON.parse(await call.call(redis, 'probe:', JSON.stringify(cases))) as Array<[string, boolean]>;
}

function inTypeScript(cases: Case[]): Array<[string, boolean]> {
  return cases.map(([mask, name]) => [fold(name), matchesMask(mask, name)]);
}

const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

const table: Case[] = [
  ['*', ascii],
  ['*', 'Nick[A]\\^ {a}|~ ÉéÀß #Chan'],
  ['*!*@*', 'n!u@h'],
  ['n*!*@host', 'n!u@host'],
  ['n?!*@*', 'nx!u@h'],
  ['n?!*@*', 'n!u@h'],
  ['*@*.example', 'n!u@h.example.org'],
  ['NICK[A]!*@*', 'nick{a}!u@h'],
  ['nick{a}!*@*', 'NICK[A]!u@h'],
  ['a^b', 'A~B'],
  ['a~b', 'A^B'],
  ['a\\b', 'a|b'],
  ['*!*@HOST.Example', 'n!u@host.example'],
  ['X{?}!*@10.*', 'x[1]!u@10.0.0.2'],
  ['X{?}!*@10.*', 'x[12]!u@10.0.0.3'],
  ['a.b!*@*', 'axb!u@h'],
  ['a+(b)$!*@*', 'a+(b)$!u@h'],
  ['%a%', '%a%'],
  ['*ab', 'aab'],
  ['*a*b*c', 'xaxbxbxc'],
  ['*a*b*c', 'xaxbxbx'],
  ['', ''],
  ['', 'a'],
  ['*', ''],
  ['?', ''],
  ['**', 'ab'],
  ['?', 'é'],
  ['??', 'é'],
  ['é', 'É'],
  ['*é?', 'aéb'],
  ['#ça-va', '#ÇA-VA'],
  [`${'*a'.repeat(12)}*b`, 'a'.repeat(60)],
];

describe('lua/lib.lua fold and matches agree with casemap.ts', () => {
  it('on a table of cases', async () => {
    expect(await inLua(table)).toEqual(inTypeScript(table));
  });

  // Letters on both sides of the rfc1459 mapping, the wildcards, and two-byte UTF-8.
  const char = fc.constantFrom('a', 'A', 'z', 'Z', '[', '{', ']', '}', '\\', '|', '^', '~', '@', '`', '_', '!', '.', 'é', 'É', '*', '?');
  const text = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(''));
  /** A mask made from the name (case flipped, characters turned into ? or *), so many match. */
  const derived = fc.array(fc.tuple(char, fc.constantFrom('keep', 'flip', '?', '*', '*keep', 'drop')), { maxLength: 12 }).map((pairs) => {
    const name = pairs.map(([c]) => c).join('');
    const mask = pairs
      .map(([c, op]) => (op === 'keep' ? c : op === 'flip' ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : op === '*keep' ? `*${c}` : op === 'drop' ? '' : op))
      .join('');
    return [mask, name] as Case;
  });

  it('on generated masks and names', async () => {
    const cases = [...fc.sample(fc.tuple(text, text), { numRuns: 500, seed: 1459 }), ...fc.sample(derived, { numRuns: 500, seed: 2812 })];
    const lua = await inLua(cases);
    const ts = inTypeScript(cases);
    const disagreeing = cases.filter((_, i) => JSON.stringify(lua[i]) !== JSON.stringify(ts[i]));
    expect(disagreeing).toEqual([]);
    expect(ts.filter(([, matched]) => matched).length).toBeGreaterThan(100); // the derived masks do match
  });

  it('differs only past U+FFFF: there ? takes one character in Lua, one UTF-16 unit (half) in TypeScript', async () => {
    const cases: Case[] = [['?', '👋'], ['??', '👋']];
    expect(await inLua(cases)).toEqual([['👋', true], ['👋', false]]);
    expect(inTypeScript(cases)).toEqual([['👋', false], ['👋', true]]);
  });
});
