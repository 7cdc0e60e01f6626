// The Lua side of the network state on Redis: one script per atomic step, each in its own file
// in lua/ beside this one, with prelude.lua (the helpers every script shares, case folding and
// mask matching among them) sent in front of each. Read once, when the module loads; the build
// copies lua/ next to the compiled module, so source (tests) and dist (the CLI) read the same
// files. Each runs as one ioredis command (defineCommand: EVALSHA), KEYS[1] being the network's
// key prefix. test/unit/lua.test.ts parses every script as Redis will see it.

import { readFileSync } from 'node:fs';

/** Every script, by the name of its file (without .lua). */
export const scriptNames = ['claimNick', 'register', 'setUserField', 'setUserModes', 'removeUser', 'join', 'part', 'partAll', 'setTopic', 'applyModes', 'invite', 'kick', 'removeNode', 'restoreUser', 'user', 'findUsers', 'channel', 'members', 'membership', 'channelsOf', 'listChannels', 'counts', 'snapshotNode'] as const;
export type ScriptName = (typeof scriptNames)[number];

/** Scripts that only read: Redis may run them on a replica, and each answer is one snapshot. */
const readOnly: ReadonlySet<ScriptName> = new Set<ScriptName>(['user', 'findUsers', 'channel', 'members', 'membership', 'channelsOf', 'listChannels', 'counts', 'snapshotNode']);

export interface Script {
  /** The prelude and the script, as sent to Redis. */
  lua: string;
  readOnly: boolean;
}

const luaDir = new URL('./lua/', import.meta.url);

function read(name: string): string {
  return readFileSync(new URL(`${name}.lua`, luaDir), 'utf8');
}

/** The helpers every script starts with (also run on their own by the tests). */
export function loadPrelude(): string {
  return read('prelude');
}

/** Every script with the prelude in front, read from lua/. */
export function loadScripts(): Record<ScriptName, Script> {
  const prelude = loadPrelude();
  const out = {} as Record<ScriptName, Script>;
  for (const name of scriptNames) out[name] = { lua: `${prelude}\n${read(name)}`, readOnly: readOnly.has(name) };
  return out;
}
