// The Lua scripts RedisState runs, one per atomic step, read once from lua/ when this module
// loads (the build copies them next to the compiled module, so source and dist both find them).
// Each script is sent as lua/lib.lua followed by lua/<name>.lua: the library's locals (case
// folding, mask matching, record shapes) are defined once and in scope in every script.

import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Steps that write. ARGV layouts are documented where RedisState calls them. */
const updates = [
  'claimNick',
  'register',
  'setUserField',
  'setUserModes',
  'setUserHost',
  'removeUser',
  'join',
  'part',
  'partAll',
  'setTopic',
  'applyModes',
  'invite',
  'kick',
  'renameChannel',
  'removeNode',
  'restoreUser',
] as const;

/** Read-only steps: each answer is one consistent snapshot. */
const queries = [
  'user',
  'findUsers',
  'channel',
  'members',
  'membership',
  'speakIn',
  'channelsOf',
  'listChannels',
  'maskLists',
  'counts',
  'snapshotNode',
] as const;

export type ScriptName = (typeof updates)[number] | (typeof queries)[number];

export interface Script {
  name: ScriptName;
  /** The text sent to Redis: the library, then the script. */
  lua: string;
  readOnly: boolean;
}

/** The folder holding the .lua files, next to this module in src/ and in dist/. */
export const luaDir = new URL('./lua/', import.meta.url);

function readLua(name: string): string {
  return readFileSync(new URL(`${name}.lua`, luaDir), 'utf8');
}

/** lua/lib.lua: the shared locals every script starts with. */
export const luaLibrary = readLua('lib');

/** The text sent for a script: a newline between, so a library ending in a comment cannot swallow line 1. */
function withLibrary(name: ScriptName): string {
  return `${luaLibrary}\n${readLua(name)}`;
}

export const scripts: readonly Script[] = [
  ...updates.map((name) => ({ name, lua: withLibrary(name), readOnly: false })),
  ...queries.map((name) => ({ name, lua: withLibrary(name), readOnly: true })),
];

/** The ioredis command a script is defined as on the client. */
export function commandName(name: ScriptName): string {
  return `ircState_${name}`;
}

/** Defines every script on `redis` (ioredis `defineCommand`: EVALSHA, the text sent once). */
export function defineScripts(redis: Redis): void {
  for (const script of scripts) {
    redis.defineCommand(commandName(script.name), { lua: script.lua, numberOfKeys: 1, readOnly: script.readOnly });
  }
}
