// The network state in Redis: the NetworkState shared by every node (server process) of one IRC
// network. Each operation that decides something is ONE Lua script (ioredis `defineCommand`, so
// EVALSHA), so two nodes racing get exactly the semantics MemoryState has in one process
// (memoryState.ts is the behavioural reference; test/unit/irc/stateContract.ts holds both to it).
// Scripts keep every check before the first write: Redis does not roll a script back on error.
//
// Key schema. Every key starts with `prefix` (`irc:{<network>}:`; the `{...}` hash tag puts all
// of them in one Redis Cluster slot, so a script may touch any of them). `<id>` is a network-wide
// client id in decimal (ids.ts), `<f>` a folded channel name (casemap.ts), `<n>` a node index.
//   nicks          hash   folded nick -> id of the client holding it (registered or not)
//   user:<id>      hash   nick (display), folded, node, registered '0'|'1', user, host,
//                         realname, server, tls '0'|'1', modes, signonAt, lastActiveAt (ms),
//                         away (absent when not away)
//   uchans:<id>    zset   folded channels the client is in, scored by join sequence
//   node:<n>       set    ids of the clients node n holds (every nick holder), for removeNode
//   channels       zset   folded names of every channel, scored by creation sequence (LIST order)
//   chan:<f>       hash   name (display), createdAt, flags (sorted letters), key?, limit?,
//                         topic?, topicBy?, topicAt?
//   members:<f>    zset   member ids, scored by join sequence (join order)
//   mstat:<f>      hash   member id -> status letters: '', 'o', 'v' or 'ov'
//   bans:<f>       list   JSON {mask, setBy, setAt}, oldest first
//   invites:<f>    zset   ids with a pending invite, scored by sequence (oldest popped first)
//   whowas         list   JSON {nick, user, host, realname, server, at}, newest first, capped
//   seq            string counter giving the sequences above
//   counts         hash   users (registered), invisible (registered +i), unknown (nick holders
//                         not registered), maxUsers (most registered at once, network-wide)
//   nodes          hash   node -> clients it holds (a node is listed while it holds any)
//   nodeUsers      hash   node -> registered users on it (LUSERS local users)
//   nodeMax        hash   node -> most registered users it has had at once
// Times and ids travel as decimal strings, never as Lua numbers: Lua prints numbers with 14
// significant digits, which would round ids past 10^14.
//
// Locally (this process only) a map folded channel -> this node's member ids answers the
// synchronous `localMembers`; this node's own results keep it current, and `applyControl` applies
// what another node tells us (a KICK there of a client of ours). The optional `follow` and
// `unfollow` hooks hear when a channel gains its first local member and loses its last one (a
// join in flight counts, so a JOIN racing the last PART never ends up unfollowed).
//
// Redis must not evict (maxmemory-policy noeviction): a lost key is lost state. When Redis is
// unreachable every operation rejects with NetworkUnavailableError; other errors are bugs.

import type { Redis } from 'ioredis';
import { fold } from '../wire/casemap.js';
import { nodeOf } from '../state/ids.js';
import type {
  BanRecord,
  ChannelModes,
  ChannelRecord,
  ChannelSummary,
  JoinRefusal,
  JoinRequest,
  JoinResult,
  Member,
  Membership,
  ModeChange,
  ModeError,
  ModeOptions,
  ModeResult,
  NetworkCounts,
  NetworkState,
  NickClaim,
  PartResult,
  TargetedResult,
  Topic,
  TopicResult,
  UserChannel,
  UserProfile,
  UserRecord,
  WhowasEntry,
} from '../state/networkState.js';
import { channelFlags, NetworkUnavailableError, resolveStateLimits, sortedLetters, type StateLimits } from '../state/networkState.js';

/** What one node tells another about the other's local index (sent by the caller's transport). */
export type StateControl =
  /** `clientId` (held by the receiving node) is no longer in `channel` (folded): kicked. */
  { type: 'dropMember'; channel: string; clientId: number };

export { NetworkUnavailableError };

/**
 * ioredis options for the client handed to RedisState. Fail fast instead of queueing: a command
 * that waited for Redis to come back would decide on a network that moved on without us (a nick
 * claimed meanwhile, a channel recreated), so we prefer an error the caller can act on.
 */
export const redisStateClientOptions = {
  /** Commands issued while disconnected reject at once ("Stream isn't writeable"). */
  enableOfflineQueue: false,
  /** Commands in flight when the connection drops reject at the first reconnect attempt. */
  maxRetriesPerRequest: 0,
  /** A Redis that stopped answering without closing the socket (a partition) fails within 5 s. */
  commandTimeout: 5_000,
  /** Keep trying to reconnect (every 50 ms doubling to 2 s); operations fail meanwhile. */
  retryStrategy: (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
} as const;

export interface RedisStateOptions extends StateLimits {
  /** Connected ioredis client for commands (not subscribed); see redisStateClientOptions. */
  redis: Redis;
  /** Start of every key, e.g. `irc:{TestNet}:`. */
  prefix: string;
  /** This node's index (ids.ts): clients with nodeOf(id) === nodeIndex are local. */
  nodeIndex: number;
  /** Sends a control message to another node (it calls `applyControl` there). */
  notifyNode: (nodeIndex: number, control: StateControl) => void;
  /**
   * Called (and awaited) before this node's first member of a channel joins it, so the caller
   * can start receiving what is said there before the join is visible to anyone.
   */
  follow?: (channel: string) => void | Promise<void>;
  /** Called once this node has no member of the channel left (and no join of it in flight). */
  unfollow?: (channel: string) => void | Promise<void>;
}

/** A user removeNode took off the network, so the caller can send its QUIT. */
export interface RemovedUser {
  clientId: number;
  nick: string;
  user: string;
  host: string;
  /** Folded names of the channels it was in. */
  channels: string[];
}

/** A channel as it was, used by restore only when the channel no longer exists. */
export interface RestoreChannelState {
  createdAt: number;
  topic: Topic | null;
  modes: ChannelModes;
  bans: BanRecord[];
}

export interface RestoreChannel {
  /** Display name. */
  name: string;
  op: boolean;
  voice: boolean;
  /** Absent: a vanished channel is recreated with `createFlags` and nothing else. */
  state?: RestoreChannelState;
}

/** One of this node's clients as it was before Redis lost it (localSnapshot gives these). */
export interface RestoreUser {
  clientId: number;
  nick: string;
  /** Used only when `registered`. */
  profile: UserProfile;
  registered: boolean;
  away: string | null;
  /** Defaults to profile.signonAt. */
  lastActiveAt?: number;
  channels: RestoreChannel[];
}

export type RestoreResult =
  /**
   * The client is on the network: `restored` false when Redis still had it (left untouched).
   * `channels`: folded names of the channels it is now in.
   */
  | { clientId: number; ok: true; restored: boolean; channels: string[] }
  /** Another client took the nick meanwhile; nothing was restored (the caller renames or drops it). */
  | { clientId: number; ok: false; reason: 'nickInUse'; holder: number };

// ---- Lua ----

// Shared by every script (each script is sent whole once; EVALSHA afterwards).
const prelude = String.raw`
local P = KEYS[1]
local NULL = cjson.null
local FLAG_MODES = { i = true, m = true, n = true, s = true, t = true }

-- casemap.ts fold: A-Z and [\]^ to a-z and {|}~ (bytes >= 0x80 untouched, as in UTF-16 there).
local function fold(s)
  return (string.gsub(s, '[A-Z%[\\%]%^]', function(c) return string.char(string.byte(c) + 32) end))
end

-- Index just past the UTF-8 character at i, so '?' takes one character, not one byte.
local function nextChar(s, i)
  i = i + 1
  local b = string.byte(s, i)
  while b and b >= 128 and b < 192 do i = i + 1; b = string.byte(s, i) end
  return i
end

-- casemap.ts matchesMask: greedy, remembering only the last '*', so at most mask x name steps
-- (a backtracking matcher is exponential on masks like *a*a*a*a*b, and this runs inside Redis).
local function matches(mask, name)
  local m, s = fold(mask), fold(name)
  local mi, si, star, resume = 1, 1, 0, 1
  while si <= #s do
    local c = string.byte(m, mi)
    if c == 42 then
      mi = mi + 1; star = mi; resume = si
    elseif c == 63 then
      mi = mi + 1; si = nextChar(s, si)
    elseif c ~= nil and c == string.byte(s, si) then
      mi = mi + 1; si = si + 1
    elseif star ~= 0 then
      mi = star; resume = nextChar(s, resume); si = resume
    else
      return false
    end
  end
  while string.byte(m, mi) == 42 do mi = mi + 1 end
  return mi > #m
end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function hasFlag(letters, letter)
  return string.find(letters or '', letter, 1, true) ~= nil
end

-- Letters with one added or removed, sorted (modes are reported in alphabetical order).
local function withFlag(letters, letter, on)
  local set, out = {}, {}
  for ch in string.gmatch(letters, '.') do set[ch] = true end
  set[letter] = on or nil
  for ch in pairs(set) do out[#out + 1] = ch end
  table.sort(out)
  return table.concat(out)
end

local function status(op, voice)
  return (op and 'o' or '') .. (voice and 'v' or '')
end

local function seq()
  return redis.call('INCR', P .. 'seq')
end

local function userKey(id) return P .. 'user:' .. id end

local function record(id, u)
  return { clientId = id, nick = u.nick, user = u.user, host = u.host, realname = u.realname,
    server = u.server, tls = u.tls == '1', away = u.away or NULL, modes = u.modes,
    signonAt = u.signonAt, lastActiveAt = u.lastActiveAt }
end

-- The registered user holding a folded nick: id and fields, or nil (unregistered holders are not users).
local function registeredByNick(folded)
  local id = redis.call('HGET', P .. 'nicks', folded)
  if not id then return nil end
  local u = hgetall(userKey(id))
  if u.registered ~= '1' then return nil end
  return id, u
end

local function channelRecord(f)
  local c = hgetall(P .. 'chan:' .. f)
  if c.name == nil then return NULL end
  local topic = NULL
  if c.topic then topic = { text = c.topic, setBy = c.topicBy, setAt = c.topicAt } end
  return { name = c.name, createdAt = c.createdAt, topic = topic,
    modes = { flags = c.flags, key = c.key or NULL, limit = c.limit or NULL },
    memberCount = redis.call('ZCARD', P .. 'members:' .. f) }
end

-- Registered users counted network-wide and per node, with the high-water marks LUSERS shows.
local function countRegistered(node, delta)
  local users = redis.call('HINCRBY', P .. 'counts', 'users', delta)
  local here = redis.call('HINCRBY', P .. 'nodeUsers', node, delta)
  if delta > 0 then
    if users > tonumber(redis.call('HGET', P .. 'counts', 'maxUsers') or '0') then
      redis.call('HSET', P .. 'counts', 'maxUsers', users)
    end
    if here > tonumber(redis.call('HGET', P .. 'nodeMax', node) or '0') then
      redis.call('HSET', P .. 'nodeMax', node, here)
    end
  elseif here <= 0 then
    redis.call('HDEL', P .. 'nodeUsers', node)
  end
end

-- A node is listed in 'nodes' (LUSERS servers) while it holds at least one client.
local function countHolder(node, delta)
  if redis.call('HINCRBY', P .. 'nodes', node, delta) <= 0 then redis.call('HDEL', P .. 'nodes', node) end
end

-- A bounded network-wide WHOWAS list: a nick-change loop only pushes older entries out.
local function remember(u, at, size)
  redis.call('LPUSH', P .. 'whowas', cjson.encode({ nick = u.nick, user = u.user, host = u.host,
    realname = u.realname, server = u.server, at = at }))
  redis.call('LTRIM', P .. 'whowas', 0, size - 1)
end

-- Takes a member out of a channel; a channel left empty disappears with everything it held.
local function leave(id, f)
  redis.call('ZREM', P .. 'uchans:' .. id, f)
  redis.call('ZREM', P .. 'members:' .. f, id)
  redis.call('HDEL', P .. 'mstat:' .. f, id)
  if redis.call('ZCARD', P .. 'members:' .. f) == 0 then
    redis.call('DEL', P .. 'chan:' .. f, P .. 'members:' .. f, P .. 'mstat:' .. f, P .. 'bans:' .. f, P .. 'invites:' .. f)
    redis.call('ZREM', P .. 'channels', f)
  end
end

-- The client leaves the network; returns its fields and folded channels, or nil if it was gone.
local function removeUser(id, at, size)
  local u = hgetall(userKey(id))
  if u.nick == nil then return nil end
  local channels = redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1)
  for _, f in ipairs(channels) do leave(id, f) end
  if redis.call('HGET', P .. 'nicks', u.folded) == id then redis.call('HDEL', P .. 'nicks', u.folded) end
  redis.call('DEL', userKey(id), P .. 'uchans:' .. id)
  redis.call('SREM', P .. 'node:' .. u.node, id)
  countHolder(u.node, -1)
  if u.registered == '1' then
    countRegistered(u.node, -1)
    if hasFlag(u.modes, 'i') then redis.call('HINCRBY', P .. 'counts', 'invisible', -1) end
    remember(u, at, size)
  else
    redis.call('HINCRBY', P .. 'counts', 'unknown', -1)
  end
  return u, channels
end

local function refuse(reason) return cjson.encode({ ok = false, reason = reason }) end
`;

interface ScriptSource {
  lua: string;
  readOnly?: boolean;
}

// One entry per atomic step. ARGV layouts are documented where the TypeScript side calls them.
const scripts = {
  // The nick goes to this client unless another holds it; the old nick is freed and remembered
  // (if registered) in the same step, so two racing claims cannot both win.
  claimNick: {
    lua: String.raw`
local id, nick, folded, at, node, size = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local holder = redis.call('HGET', P .. 'nicks', folded)
if holder and holder ~= id then return cjson.encode({ ok = false }) end
local key = userKey(id)
local u = hgetall(key)
if u.nick == nil then
  redis.call('HSET', key, 'nick', nick, 'folded', folded, 'node', node, 'registered', '0', 'user', '',
    'host', '', 'realname', '', 'server', '', 'tls', '0', 'modes', '', 'signonAt', at, 'lastActiveAt', at)
  redis.call('HSET', P .. 'nicks', folded, id)
  redis.call('SADD', P .. 'node:' .. node, id)
  countHolder(node, 1)
  redis.call('HINCRBY', P .. 'counts', 'unknown', 1)
  return cjson.encode({ ok = true, previous = NULL, channels = {} })
end
if u.registered == '1' then remember(u, at, size) end
redis.call('HDEL', P .. 'nicks', u.folded)
redis.call('HSET', P .. 'nicks', folded, id)
redis.call('HSET', key, 'nick', nick, 'folded', folded)
return cjson.encode({ ok = true, previous = u.nick, channels = redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1) })
`,
  },
  // Registration moves the client from 'unknown' to 'users' in the counts, in one step.
  register: {
    lua: String.raw`
local id = ARGV[1]
local key = userKey(id)
local u = hgetall(key)
if u.nick == nil then return cjson.encode({ ok = false }) end
if u.registered == '1' then
  if hasFlag(u.modes, 'i') then redis.call('HINCRBY', P .. 'counts', 'invisible', -1) end
else
  redis.call('HINCRBY', P .. 'counts', 'unknown', -1)
  countRegistered(u.node, 1)
end
redis.call('HSET', key, 'registered', '1', 'user', ARGV[2], 'host', ARGV[3], 'realname', ARGV[4],
  'server', ARGV[5], 'tls', ARGV[6], 'modes', ARGV[7], 'signonAt', ARGV[8], 'lastActiveAt', ARGV[8])
if hasFlag(ARGV[7], 'i') then redis.call('HINCRBY', P .. 'counts', 'invisible', 1) end
return cjson.encode({ ok = true })
`,
  },
  // Away and idle time: a field set only on a client that still exists (never a half record).
  setUserField: {
    lua: String.raw`
local key = userKey(ARGV[1])
if redis.call('EXISTS', key) == 0 then return 0 end
if ARGV[3] == '1' then redis.call('HSET', key, ARGV[2], ARGV[4]) else redis.call('HDEL', key, ARGV[2]) end
return 1
`,
  },
  // User modes, keeping the invisible count in step.
  setUserModes: {
    lua: String.raw`
local key = userKey(ARGV[1])
local u = hgetall(key)
if u.nick == nil then return 0 end
if u.registered == '1' then
  local was, now = hasFlag(u.modes, 'i'), hasFlag(ARGV[2], 'i')
  if was ~= now then redis.call('HINCRBY', P .. 'counts', 'invisible', now and 1 or -1) end
end
redis.call('HSET', key, 'modes', ARGV[2])
return 1
`,
  },
  // Out of every channel, nick freed, WHOWAS written: the client leaves as one step.
  removeUser: {
    lua: String.raw`
local u, channels = removeUser(ARGV[1], ARGV[2], tonumber(ARGV[3]))
if not u then return cjson.encode(NULL) end
return cjson.encode({ nick = u.nick, channels = channels })
`,
  },
  // Every join check in MemoryState's order, and the channel created with the joiner as op.
  join: {
    lua: String.raw`
local id, name, f, hasKey, key, maxChannels, createFlags, at =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local u = hgetall(userKey(id))
if u.nick == nil then return refuse('notUser') end
local mkey, ckey = P .. 'members:' .. f, P .. 'chan:' .. f
if redis.call('ZSCORE', mkey, id) then return refuse('alreadyOn') end
if redis.call('ZCARD', P .. 'uchans:' .. id) >= maxChannels then return refuse('tooManyChannels') end
local created = redis.call('EXISTS', ckey) == 0
if created then
  redis.call('HSET', ckey, 'name', name, 'createdAt', at, 'flags', createFlags)
  redis.call('ZADD', P .. 'channels', seq(), f)
else
  local c = hgetall(ckey)
  local nuh = u.nick .. '!' .. u.user .. '@' .. u.host
  for _, raw in ipairs(redis.call('LRANGE', P .. 'bans:' .. f, 0, -1)) do
    if matches(cjson.decode(raw).mask, nuh) then return refuse('banned') end
  end
  if hasFlag(c.flags, 'i') and not redis.call('ZSCORE', P .. 'invites:' .. f, id) then return refuse('inviteOnly') end
  if c.key and (hasKey ~= '1' or key ~= c.key) then return refuse('badKey') end
  if c.limit and redis.call('ZCARD', mkey) >= tonumber(c.limit) then return refuse('full') end
end
redis.call('ZREM', P .. 'invites:' .. f, id)
local s = seq()
redis.call('ZADD', mkey, s, id)
redis.call('HSET', P .. 'mstat:' .. f, id, created and 'o' or '')
redis.call('ZADD', P .. 'uchans:' .. id, s, f)
return cjson.encode({ ok = true, created = created, channel = channelRecord(f) })
`,
  },
  part: {
    lua: String.raw`
local id, f = ARGV[1], ARGV[2]
local name = redis.call('HGET', P .. 'chan:' .. f, 'name')
if not name then return refuse('noSuchChannel') end
if not redis.call('ZSCORE', P .. 'members:' .. f, id) then return refuse('notOn') end
leave(id, f)
return cjson.encode({ ok = true, channel = name })
`,
  },
  // JOIN 0: every channel left in one step; display and folded names back.
  partAll: {
    lua: String.raw`
local id = ARGV[1]
local names, folded = {}, {}
for _, f in ipairs(redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1)) do
  local name = redis.call('HGET', P .. 'chan:' .. f, 'name')
  if name then names[#names + 1] = name; folded[#folded + 1] = f end
  leave(id, f)
end
return cjson.encode({ names = names, folded = folded })
`,
  },
  // The member check and the +t op check in the same step as the write.
  setTopic: {
    lua: String.raw`
local id, f = ARGV[1], ARGV[2]
local ckey = P .. 'chan:' .. f
local c = hgetall(ckey)
if c.name == nil then return refuse('noSuchChannel') end
local st = redis.call('HGET', P .. 'mstat:' .. f, id)
if not st then return refuse('notOn') end
if hasFlag(c.flags, 't') and not hasFlag(st, 'o') then return refuse('notOp') end
if ARGV[3] == '1' then
  redis.call('HSET', ckey, 'topic', ARGV[4], 'topicBy', ARGV[5], 'topicAt', ARGV[6])
else
  redis.call('HDEL', ckey, 'topic', 'topicBy', 'topicAt')
end
return cjson.encode({ ok = true, channel = c.name })
`,
  },
  // All mode changes under one op check; changes are ARGV quads (adding, mode, param, folded param).
  applyModes: {
    lua: String.raw`
local id, f, maxBans, setBy, at = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local ckey, bkey, skey = P .. 'chan:' .. f, P .. 'bans:' .. f, P .. 'mstat:' .. f
local c = hgetall(ckey)
if c.name == nil then return refuse('noSuchChannel') end
if not hasFlag(redis.call('HGET', skey, id) or '', 'o') then return refuse('notOp') end
local applied, errors = {}, {}
local flags = c.flags
for i = 6, #ARGV, 4 do
  local adding, mode, param, folded = ARGV[i] == '1', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if FLAG_MODES[mode] then
    if hasFlag(flags, mode) ~= adding then
      flags = withFlag(flags, mode, adding)
      redis.call('HSET', ckey, 'flags', flags)
      applied[#applied + 1] = { adding = adding, mode = mode }
    end
  elseif mode == 'k' then
    local key = redis.call('HGET', ckey, 'key')
    if adding then
      if key ~= param and param ~= '' then
        redis.call('HSET', ckey, 'key', param)
        applied[#applied + 1] = { adding = adding, mode = mode, param = param }
      end
    elseif key then
      redis.call('HDEL', ckey, 'key')
      applied[#applied + 1] = { adding = adding, mode = mode, param = '*' }
    end
  elseif mode == 'l' then
    -- param arrives normalised by the caller ('' when not a positive safe integer).
    local limit = redis.call('HGET', ckey, 'limit')
    if adding then
      if param ~= '' and limit ~= param then
        redis.call('HSET', ckey, 'limit', param)
        applied[#applied + 1] = { adding = adding, mode = mode, param = param }
      end
    elseif limit then
      redis.call('HDEL', ckey, 'limit')
      applied[#applied + 1] = { adding = adding, mode = mode }
    end
  elseif mode == 'o' or mode == 'v' then
    local tid, tu = registeredByNick(folded)
    if not tid then
      errors[#errors + 1] = { error = 'noSuchNick', mode = mode, param = param }
    else
      local st = redis.call('HGET', skey, tid)
      if not st then
        errors[#errors + 1] = { error = 'notOnChannel', mode = mode, param = tu.nick }
      elseif hasFlag(st, mode) ~= adding then
        redis.call('HSET', skey, tid, withFlag(st, mode, adding))
        applied[#applied + 1] = { adding = adding, mode = mode, param = tu.nick }
      end
    end
  elseif mode == 'b' then
    local bans = redis.call('LRANGE', bkey, 0, -1)
    local found, foundMask
    for _, raw in ipairs(bans) do
      local b = cjson.decode(raw)
      if fold(b.mask) == folded then found = raw; foundMask = b.mask; break end
    end
    if adding then
      if not found and param ~= '' then
        if #bans >= maxBans then
          errors[#errors + 1] = { error = 'banListFull', mode = mode, param = param }
        else
          redis.call('RPUSH', bkey, cjson.encode({ mask = param, setBy = setBy, setAt = at }))
          applied[#applied + 1] = { adding = adding, mode = mode, param = param }
        end
      end
    elseif found then
      redis.call('LREM', bkey, 1, found)
      applied[#applied + 1] = { adding = adding, mode = mode, param = foundMask }
    end
  end
end
return cjson.encode({ ok = true, channel = c.name, applied = applied, errors = errors })
`,
  },
  // The inviter's rights and the invitee's absence checked with the write; oldest invite dropped past the cap.
  invite: {
    lua: String.raw`
local id, f, folded, maxInvites = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local tid, tu = registeredByNick(folded)
if not tid then return refuse('noSuchNick') end
local c = hgetall(P .. 'chan:' .. f)
if c.name == nil then return refuse('noSuchChannel') end
local st = redis.call('HGET', P .. 'mstat:' .. f, id)
if not st then return refuse('notOn') end
if hasFlag(c.flags, 'i') and not hasFlag(st, 'o') then return refuse('notOp') end
if redis.call('ZSCORE', P .. 'members:' .. f, tid) then return refuse('alreadyOn') end
local ikey = P .. 'invites:' .. f
redis.call('ZADD', ikey, seq(), tid)
if redis.call('ZCARD', ikey) > maxInvites then redis.call('ZPOPMIN', ikey, 1) end
return cjson.encode({ ok = true, channel = c.name, target = record(tid, tu) })
`,
  },
  // The kicker's op status and the target's membership checked with the removal.
  kick: {
    lua: String.raw`
local id, f, folded = ARGV[1], ARGV[2], ARGV[3]
local name = redis.call('HGET', P .. 'chan:' .. f, 'name')
if not name then return refuse('noSuchChannel') end
local st = redis.call('HGET', P .. 'mstat:' .. f, id)
if not st then return refuse('notOn') end
if not hasFlag(st, 'o') then return refuse('notOp') end
local tid, tu = registeredByNick(folded)
if not tid then return refuse('noSuchNick') end
if not redis.call('ZSCORE', P .. 'members:' .. f, tid) then return refuse('targetNotOn') end
leave(tid, f)
return cjson.encode({ ok = true, channel = name, target = record(tid, tu) })
`,
  },
  // Every client of a node leaves (a dead node's users): safe to repeat, the second finds none.
  removeNode: {
    lua: String.raw`
local node, at, size = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node)) do
  local u, channels = removeUser(id, at, size)
  if u then out[#out + 1] = { clientId = id, nick = u.nick, user = u.user, host = u.host, channels = channels } end
end
redis.call('DEL', P .. 'node:' .. node)
redis.call('HDEL', P .. 'nodes', node)
redis.call('HDEL', P .. 'nodeUsers', node)
redis.call('HDEL', P .. 'nodeMax', node)
return cjson.encode(out)
`,
  },
  // One user back after Redis lost it: the nick only if still free (SET-NX), then its channels
  // with their status (a vanished channel recreated from the state given). ARGV[5] is JSON.
  restoreUser: {
    lua: String.raw`
local id, node, at, createFlags = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local r = cjson.decode(ARGV[5])
local key = userKey(id)
if redis.call('EXISTS', key) == 1 then
  return cjson.encode({ ok = true, restored = false, channels = redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1) })
end
local holder = redis.call('HGET', P .. 'nicks', r.folded)
if holder and holder ~= id then return cjson.encode({ ok = false, reason = 'nickInUse', holder = holder }) end
redis.call('HSET', key, 'nick', r.nick, 'folded', r.folded, 'node', node, 'registered', r.registered and '1' or '0',
  'user', r.user, 'host', r.host, 'realname', r.realname, 'server', r.server, 'tls', r.tls and '1' or '0',
  'modes', r.modes, 'signonAt', r.signonAt, 'lastActiveAt', r.lastActiveAt)
if r.away ~= NULL then redis.call('HSET', key, 'away', r.away) end
redis.call('HSET', P .. 'nicks', r.folded, id)
redis.call('SADD', P .. 'node:' .. node, id)
countHolder(node, 1)
if r.registered then
  countRegistered(node, 1)
  if hasFlag(r.modes, 'i') then redis.call('HINCRBY', P .. 'counts', 'invisible', 1) end
else
  redis.call('HINCRBY', P .. 'counts', 'unknown', 1)
end
local joined = {}
for _, ch in ipairs(r.channels) do
  local f, ckey = ch.folded, P .. 'chan:' .. ch.folded
  if redis.call('EXISTS', ckey) == 0 then
    local s = ch.state
    if s ~= nil and s ~= NULL then
      redis.call('HSET', ckey, 'name', ch.name, 'createdAt', s.createdAt, 'flags', s.flags)
      if s.key ~= NULL then redis.call('HSET', ckey, 'key', s.key) end
      if s.limit ~= NULL then redis.call('HSET', ckey, 'limit', s.limit) end
      if s.topic ~= NULL then redis.call('HSET', ckey, 'topic', s.topic.text, 'topicBy', s.topic.setBy, 'topicAt', s.topic.setAt) end
      for _, b in ipairs(s.bans) do redis.call('RPUSH', P .. 'bans:' .. f, cjson.encode(b)) end
    else
      redis.call('HSET', ckey, 'name', ch.name, 'createdAt', at, 'flags', createFlags)
    end
    redis.call('ZADD', P .. 'channels', seq(), f)
  end
  if not redis.call('ZSCORE', P .. 'members:' .. f, id) then
    local s = seq()
    redis.call('ZADD', P .. 'members:' .. f, s, id)
    redis.call('HSET', P .. 'mstat:' .. f, id, status(ch.op, ch.voice))
    redis.call('ZADD', P .. 'uchans:' .. id, s, f)
    joined[#joined + 1] = f
  end
end
return cjson.encode({ ok = true, restored = true, channels = joined })
`,
  },

  // ---- Queries: read-only scripts, so each answer is one consistent snapshot ----

  user: {
    readOnly: true,
    lua: String.raw`
local id, u = registeredByNick(ARGV[1])
if not id then return cjson.encode(NULL) end
return cjson.encode(record(id, u))
`,
  },
  findUsers: {
    readOnly: true,
    lua: String.raw`
local mask, out = ARGV[1], {}
for _, id in ipairs(redis.call('HVALS', P .. 'nicks')) do
  local u = hgetall(userKey(id))
  if u.registered == '1' and (matches(mask, u.nick) or matches(mask, u.nick .. '!' .. u.user .. '@' .. u.host)
      or matches(mask, u.host) or matches(mask, u.server) or matches(mask, u.realname)) then
    out[#out + 1] = record(id, u)
  end
end
return cjson.encode(out)
`,
  },
  channel: {
    readOnly: true,
    lua: String.raw`return cjson.encode(channelRecord(ARGV[1]))`,
  },
  members: {
    readOnly: true,
    lua: String.raw`
local f, out = ARGV[1], {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'members:' .. f, 0, -1)) do
  local u = hgetall(userKey(id))
  local st = redis.call('HGET', P .. 'mstat:' .. f, id) or ''
  if u.nick then out[#out + 1] = { user = record(id, u), op = hasFlag(st, 'o'), voice = hasFlag(st, 'v') } end
end
return cjson.encode(out)
`,
  },
  membership: {
    readOnly: true,
    lua: String.raw`
local id = redis.call('HGET', P .. 'nicks', ARGV[2])
if not id then return cjson.encode(NULL) end
local st = redis.call('HGET', P .. 'mstat:' .. ARGV[1], id)
if not st then return cjson.encode(NULL) end
return cjson.encode({ op = hasFlag(st, 'o'), voice = hasFlag(st, 'v') })
`,
  },
  channelsOf: {
    readOnly: true,
    lua: String.raw`
local id = registeredByNick(ARGV[1])
local out = {}
if not id then return cjson.encode(out) end
for _, f in ipairs(redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1)) do
  local c = redis.call('HMGET', P .. 'chan:' .. f, 'name', 'flags')
  local st = redis.call('HGET', P .. 'mstat:' .. f, id)
  if c[1] and st then
    out[#out + 1] = { name = c[1], secret = hasFlag(c[2], 's'), op = hasFlag(st, 'o'), voice = hasFlag(st, 'v') }
  end
end
return cjson.encode(out)
`,
  },
  listChannels: {
    readOnly: true,
    lua: String.raw`
local out = {}
for _, f in ipairs(redis.call('ZRANGE', P .. 'channels', 0, -1)) do
  local c = redis.call('HMGET', P .. 'chan:' .. f, 'name', 'topic', 'flags')
  if c[1] then
    out[#out + 1] = { name = c[1], memberCount = redis.call('ZCARD', P .. 'members:' .. f),
      topic = c[2] or NULL, secret = hasFlag(c[3], 's') }
  end
end
return cjson.encode(out)
`,
  },
  counts: {
    readOnly: true,
    lua: String.raw`
local node = ARGV[1]
local c = hgetall(P .. 'counts')
local servers = redis.call('HLEN', P .. 'nodes')
if redis.call('HEXISTS', P .. 'nodes', node) == 0 then servers = servers + 1 end
return cjson.encode({ users = c.users or '0', invisible = c.invisible or '0', unknown = c.unknown or '0',
  maxUsers = c.maxUsers or '0', channels = redis.call('ZCARD', P .. 'channels'), servers = servers,
  localUsers = redis.call('HGET', P .. 'nodeUsers', node) or '0',
  maxLocalUsers = redis.call('HGET', P .. 'nodeMax', node) or '0' })
`,
  },
  // Everything restore needs about one node's clients, read as one snapshot.
  snapshotNode: {
    readOnly: true,
    lua: String.raw`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'node:' .. ARGV[1])) do
  local u = hgetall(userKey(id))
  if u.nick then
    local channels = {}
    for _, f in ipairs(redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1)) do
      local c = channelRecord(f)
      local st = redis.call('HGET', P .. 'mstat:' .. f, id)
      if c ~= NULL and st then
        channels[#channels + 1] = { channel = c, op = hasFlag(st, 'o'), voice = hasFlag(st, 'v'),
          bans = redis.call('LRANGE', P .. 'bans:' .. f, 0, -1) }
      end
    end
    out[#out + 1] = { user = record(id, u), registered = u.registered == '1', channels = channels }
  end
end
return cjson.encode(out)
`,
  },
} satisfies Record<string, ScriptSource>;

type ScriptName = keyof typeof scripts;
type ScriptCall = (prefix: string, ...args: string[]) => Promise<unknown>;

const commandName = (name: ScriptName): string => `ircState_${name}`;

// ---- Raw shapes the scripts return (ids and times as decimal strings) ----

type RawUser = Omit<UserRecord, 'clientId' | 'signonAt' | 'lastActiveAt'> &
  Record<'clientId' | 'signonAt' | 'lastActiveAt', string>;

interface RawChannel {
  name: string;
  createdAt: string;
  topic: { text: string; setBy: string; setAt: string } | null;
  modes: { flags: string; key: string | null; limit: string | null };
  memberCount: number;
}

interface RawBan {
  mask: string;
  setBy: string;
  setAt: string;
}

type Refusal<R extends string> = { ok: false; reason: R };

/** cjson encodes an empty Lua table as `{}`: every list the scripts return goes through this. */
function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function userRecord(u: RawUser): UserRecord {
  return {
    clientId: Number(u.clientId),
    nick: u.nick,
    user: u.user,
    host: u.host,
    realname: u.realname,
    server: u.server,
    tls: u.tls,
    away: u.away,
    modes: u.modes,
    signonAt: Number(u.signonAt),
    lastActiveAt: Number(u.lastActiveAt),
  };
}

function channelRecord(c: RawChannel): ChannelRecord {
  return {
    name: c.name,
    createdAt: Number(c.createdAt),
    topic: c.topic ? { text: c.topic.text, setBy: c.topic.setBy, setAt: Number(c.topic.setAt) } : null,
    modes: { flags: c.modes.flags, key: c.modes.key, limit: c.modes.limit === null ? null : Number(c.modes.limit) },
    memberCount: c.memberCount,
  };
}

function banRecord(raw: string): BanRecord {
  const b = JSON.parse(raw) as RawBan;
  return { mask: b.mask, setBy: b.setBy, setAt: Number(b.setAt) };
}

/** The flag modes among `letters`, once each, as records carry them (e.g. 'nt'). */
function flagLetters(letters: string): string {
  return sortedLetters(new Set([...letters].filter((c) => channelFlags.has(c))));
}

// ioredis reports an unreachable server with these messages and codes (offline queue disabled,
// retries exhausted, socket errors, our commandTimeout, a server still loading its data).
const unavailableMessage =
  /Connection is closed|Stream isn't writeable|max retries per request|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTCONN|^LOADING/i;
const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

/** True when `error` says Redis could not be reached (as opposed to a failing script: a bug). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof NetworkUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    (typeof code === 'string' && unavailableCodes.has(code)) ||
    unavailableMessage.test(error.message)
  );
}

export class RedisState implements NetworkState {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly nodeIndex: number;
  private readonly notifyNode: (nodeIndex: number, control: StateControl) => void;
  private readonly whowasSize: number;
  private readonly maxInvitesPerChannel: number;
  private readonly follow: (channel: string) => void | Promise<void>;
  private readonly unfollow: (channel: string) => void | Promise<void>;
  /** Folded channel -> this node's member ids, in the order they joined. */
  private readonly local = new Map<string, Set<number>>();
  /** Folded channel -> its `follow` (settled once following); present while followed. */
  private readonly followed = new Map<string, Promise<void>>();
  /** Folded channel -> this node's joins (and restores) of it in flight. */
  private readonly joining = new Map<string, number>();

  constructor(options: RedisStateOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.nodeIndex = options.nodeIndex;
    this.notifyNode = options.notifyNode;
    this.follow = options.follow ?? (() => {});
    this.unfollow = options.unfollow ?? (() => {});
    const limits = resolveStateLimits(options);
    this.whowasSize = limits.whowasSize;
    this.maxInvitesPerChannel = limits.maxInvitesPerChannel;
    for (const [name, script] of Object.entries(scripts) as [ScriptName, ScriptSource][]) {
      this.redis.defineCommand(commandName(name), {
        lua: prelude + script.lua,
        numberOfKeys: 1,
        readOnly: script.readOnly ?? false,
      });
    }
  }

  // ---- Users ----

  async claimNick(clientId: number, nick: string, at: number): Promise<NickClaim> {
    const r = await this.run<{ ok: true; previous: string | null; channels: unknown } | { ok: false }>(
      'claimNick', String(clientId), nick, fold(nick), String(at), String(nodeOf(clientId)), String(this.whowasSize));
    return r.ok ? { ok: true, previous: r.previous ?? null, channels: list<string>(r.channels) } : { ok: false };
  }

  async register(clientId: number, profile: UserProfile): Promise<void> {
    const r = await this.run<{ ok: boolean }>('register', String(clientId), profile.user, profile.host,
      profile.realname, profile.server, profile.tls ? '1' : '0', profile.modes, String(profile.signonAt));
    if (!r.ok) throw new Error(`register: client ${clientId} holds no nick`);
  }

  async user(nick: string): Promise<UserRecord | null> {
    const r = await this.run<RawUser | null>('user', fold(nick));
    return r ? userRecord(r) : null;
  }

  async findUsers(mask: string): Promise<UserRecord[]> {
    const r = await this.run<unknown>('findUsers', mask);
    // Claim order, as MemoryState lists them (ids grow with each connection).
    return list<RawUser>(r).map(userRecord).sort((a, b) => a.clientId - b.clientId);
  }

  async setAway(clientId: number, away: string | null): Promise<void> {
    await this.runRaw('setUserField', String(clientId), 'away', away === null ? '0' : '1', away ?? '');
  }

  async setUserModes(clientId: number, modes: string): Promise<void> {
    await this.runRaw('setUserModes', String(clientId), sortedLetters(modes));
  }

  async touch(clientId: number, at: number): Promise<void> {
    await this.runRaw('setUserField', String(clientId), 'lastActiveAt', '1', String(at));
  }

  async removeUser(clientId: number, at: number): Promise<{ nick: string; channels: string[] } | null> {
    const r = await this.run<{ nick: string; channels: unknown } | null>(
      'removeUser', String(clientId), String(at), String(this.whowasSize));
    if (!r) return null;
    const channels = list<string>(r.channels);
    for (const f of channels) this.dropLocal(f, clientId);
    return { nick: r.nick, channels };
  }

  async whowas(nick: string, max: number): Promise<WhowasEntry[]> {
    const raw = await this.guard(() => this.redis.lrange(`${this.prefix}whowas`, 0, -1));
    const folded = fold(nick);
    const out: WhowasEntry[] = [];
    for (const line of raw) {
      if (out.length >= max) break;
      const e = JSON.parse(line) as Omit<WhowasEntry, 'at'> & { at: string };
      if (fold(e.nick) === folded) out.push({ ...e, at: Number(e.at) });
    }
    return out;
  }

  // ---- Channels ----

  async join(clientId: number, name: string, request: JoinRequest): Promise<JoinResult> {
    const folded = fold(name);
    const createFlags = flagLetters(request.createFlags);
    const local = nodeOf(clientId) === this.nodeIndex;
    if (local) await this.beginJoin(folded);
    try {
      const r = await this.run<{ ok: true; created: boolean; channel: RawChannel } | Refusal<JoinRefusal | 'notUser'>>(
        'join', String(clientId), name, folded, request.key === null ? '0' : '1', request.key ?? '',
        String(request.maxChannels), createFlags, String(request.at));
      if (!r.ok) {
        if (r.reason === 'notUser') throw new Error(`join: client ${clientId} is not a user`);
        return { ok: false, reason: r.reason };
      }
      this.addLocal(folded, clientId);
      return { ok: true, created: r.created, channel: channelRecord(r.channel) };
    } finally {
      if (local) this.endJoin(folded);
    }
  }

  async part(clientId: number, name: string): Promise<PartResult> {
    const folded = fold(name);
    const r = await this.run<PartResult>('part', String(clientId), folded);
    if (r.ok) this.dropLocal(folded, clientId);
    return r;
  }

  async partAll(clientId: number): Promise<string[]> {
    const r = await this.run<{ names: unknown; folded: unknown }>('partAll', String(clientId));
    for (const f of list<string>(r.folded)) this.dropLocal(f, clientId);
    return list<string>(r.names);
  }

  async channel(name: string): Promise<ChannelRecord | null> {
    const r = await this.run<RawChannel | null>('channel', fold(name));
    return r ? channelRecord(r) : null;
  }

  async members(name: string): Promise<Member[]> {
    const r = await this.run<unknown>('members', fold(name));
    return list<{ user: RawUser; op: boolean; voice: boolean }>(r).map((m) => ({ user: userRecord(m.user), op: m.op, voice: m.voice }));
  }

  async membership(name: string, nick: string): Promise<Membership | null> {
    return this.run<Membership | null>('membership', fold(name), fold(nick));
  }

  async channelsOf(nick: string): Promise<UserChannel[]> {
    return list<UserChannel>(await this.run<unknown>('channelsOf', fold(nick)));
  }

  async setTopic(clientId: number, name: string, topic: Topic | null): Promise<TopicResult> {
    return this.run<TopicResult>('setTopic', String(clientId), fold(name), topic ? '1' : '0',
      topic?.text ?? '', topic?.setBy ?? '', String(topic?.setAt ?? 0));
  }

  async applyModes(clientId: number, name: string, changes: ModeChange[], options: ModeOptions): Promise<ModeResult> {
    const quads: string[] = [];
    for (const change of changes) {
      let param = change.param ?? '';
      if (change.mode === 'l' && change.adding) {
        // Normalised here so Lua only compares strings: Lua prints big numbers as 1e+15.
        const limit = Number(param);
        param = Number.isSafeInteger(limit) && limit > 0 ? String(limit) : '';
      }
      quads.push(change.adding ? '1' : '0', change.mode, param, fold(param));
    }
    const r = await this.run<{ ok: true; channel: string; applied: unknown; errors: unknown } | Refusal<'noSuchChannel' | 'notOp'>>(
      'applyModes', String(clientId), fold(name), String(options.maxBans), options.setBy, String(options.at), ...quads);
    if (!r.ok) return r;
    return { ok: true, channel: r.channel, applied: list<ModeChange>(r.applied), errors: list<ModeError>(r.errors) };
  }

  async bans(name: string): Promise<BanRecord[]> {
    const raw = await this.guard(() => this.redis.lrange(`${this.prefix}bans:${fold(name)}`, 0, -1));
    return raw.map(banRecord);
  }

  async invite(clientId: number, name: string, nick: string): Promise<TargetedResult> {
    const r = await this.run<RawTargeted>('invite', String(clientId), fold(name), fold(nick), String(this.maxInvitesPerChannel));
    return targeted(r);
  }

  async kick(clientId: number, name: string, nick: string): Promise<TargetedResult> {
    const folded = fold(name);
    const result = targeted(await this.run<RawTargeted>('kick', String(clientId), folded, fold(nick)));
    if (result.ok) {
      const kicked = result.target.clientId;
      const node = nodeOf(kicked);
      if (node === this.nodeIndex) this.dropLocal(folded, kicked);
      else this.notifyNode(node, { type: 'dropMember', channel: folded, clientId: kicked });
    }
    return result;
  }

  async listChannels(): Promise<ChannelSummary[]> {
    return list<ChannelSummary>(await this.run<unknown>('listChannels'));
  }

  async counts(): Promise<NetworkCounts> {
    const r = await this.run<Record<'users' | 'invisible' | 'unknown' | 'maxUsers' | 'localUsers' | 'maxLocalUsers', string> & { channels: number; servers: number }>(
      'counts', String(this.nodeIndex));
    const users = Number(r.users);
    return {
      users,
      invisible: Number(r.invisible),
      unknown: Number(r.unknown),
      operators: 0,
      channels: r.channels,
      servers: r.servers,
      localUsers: Number(r.localUsers),
      maxLocalUsers: Number(r.maxLocalUsers),
      globalUsers: users,
      maxGlobalUsers: Number(r.maxUsers),
    };
  }

  /** This node's channel memberships as the local index has them: folded name → client ids. */
  localChannels(): ReadonlyMap<string, ReadonlySet<number>> {
    return this.local;
  }

  localMembers(channel: string): Iterable<number> {
    return this.local.get(channel) ?? [];
  }

  // ---- Between nodes ----

  /** Applies a control message another node sent about this node's clients. */
  applyControl(control: StateControl): void {
    if (control.type === 'dropMember') this.dropLocal(control.channel, control.clientId);
  }

  /**
   * Takes every client of node `nodeIndex` off the network (the node is gone): out of every
   * channel, nicks freed, WHOWAS for the registered. Running it again returns [].
   */
  async removeNode(nodeIndex: number, at: number): Promise<RemovedUser[]> {
    const r = await this.run<unknown>('removeNode', String(nodeIndex), String(at), String(this.whowasSize));
    const removed = list<{ clientId: string; nick: string; user: string; host: string; channels: unknown }>(r).map((u) => ({
      clientId: Number(u.clientId),
      nick: u.nick,
      user: u.user,
      host: u.host,
      channels: list<string>(u.channels),
    }));
    if (nodeIndex === this.nodeIndex) for (const u of removed) for (const f of u.channels) this.dropLocal(f, u.clientId);
    return removed.sort((a, b) => a.clientId - b.clientId);
  }

  /**
   * This node's clients as Redis holds them now, in the shape `restore` takes: what to keep
   * (e.g. refreshed now and then) so the node can put its users back if Redis loses them.
   */
  async localSnapshot(): Promise<RestoreUser[]> {
    type RawSnapshot = { user: RawUser; registered: boolean; channels: unknown };
    type RawSnapshotChannel = { channel: RawChannel; op: boolean; voice: boolean; bans: unknown };
    const r = await this.run<unknown>('snapshotNode', String(this.nodeIndex));
    return list<RawSnapshot>(r)
      .map((s) => {
        const u = userRecord(s.user);
        return {
          clientId: u.clientId,
          nick: u.nick,
          profile: { user: u.user, host: u.host, realname: u.realname, server: u.server, tls: u.tls, modes: u.modes, signonAt: u.signonAt },
          registered: s.registered,
          away: u.away,
          lastActiveAt: u.lastActiveAt,
          channels: list<RawSnapshotChannel>(s.channels).map((c) => {
            const ch = channelRecord(c.channel);
            return {
              name: ch.name,
              op: c.op,
              voice: c.voice,
              state: { createdAt: ch.createdAt, topic: ch.topic, modes: ch.modes, bans: list<string>(c.bans).map(banRecord) },
            };
          }),
        };
      })
      .sort((a, b) => a.clientId - b.clientId);
  }

  /**
   * Puts this node's clients back after Redis came back empty or lost them, one atomic step per
   * user: its nick unless another client took it meanwhile (then `nickInUse`, nothing restored),
   * its registration, its channels with op/voice. A channel that vanished is recreated from the
   * `state` given (else empty with `createFlags`); an existing channel keeps its topic and modes.
   * A user Redis still has is left as it is. The local index is rebuilt from the results.
   */
  async restore(users: RestoreUser[], at: number, options: { createFlags?: string } = {}): Promise<RestoreResult[]> {
    const createFlags = flagLetters(options.createFlags ?? '');
    const channels = new Set(users.filter((u) => nodeOf(u.clientId) === this.nodeIndex).flatMap((u) => u.channels.map((c) => fold(c.name))));
    const begun = await Promise.allSettled([...channels].map((f) => this.beginJoin(f).then(() => f)));
    try {
      for (const b of begun) if (b.status === 'rejected') throw b.reason;
      return await this.restoreUsers(users, at, createFlags);
    } finally {
      for (const b of begun) if (b.status === 'fulfilled') this.endJoin(b.value);
    }
  }

  private async restoreUsers(users: RestoreUser[], at: number, createFlags: string): Promise<RestoreResult[]> {
    const results = await Promise.all(users.map(async (u): Promise<RestoreResult> => {
      const payload = {
        nick: u.nick,
        folded: fold(u.nick),
        registered: u.registered,
        user: u.registered ? u.profile.user : '',
        host: u.registered ? u.profile.host : '',
        realname: u.registered ? u.profile.realname : '',
        server: u.registered ? u.profile.server : '',
        tls: u.registered && u.profile.tls,
        modes: u.registered ? sortedLetters(u.profile.modes) : '',
        signonAt: String(u.profile.signonAt),
        lastActiveAt: String(u.lastActiveAt ?? u.profile.signonAt),
        away: u.away,
        channels: u.channels.map((c) => ({
          name: c.name,
          folded: fold(c.name),
          op: c.op,
          voice: c.voice,
          state: c.state
            ? {
                createdAt: String(c.state.createdAt),
                flags: flagLetters(c.state.modes.flags),
                key: c.state.modes.key,
                limit: c.state.modes.limit === null ? null : String(c.state.modes.limit),
                topic: c.state.topic ? { ...c.state.topic, setAt: String(c.state.topic.setAt) } : null,
                bans: c.state.bans.map((b) => ({ ...b, setAt: String(b.setAt) })),
              }
            : null,
        })),
      };
      const r = await this.run<{ ok: true; restored: boolean; channels: unknown } | { ok: false; reason: 'nickInUse'; holder: string }>(
        'restoreUser', String(u.clientId), String(nodeOf(u.clientId)), String(at), createFlags, JSON.stringify(payload));
      if (!r.ok) return { clientId: u.clientId, ok: false, reason: 'nickInUse', holder: Number(r.holder) };
      return { clientId: u.clientId, ok: true, restored: r.restored, channels: list<string>(r.channels) };
    }));
    for (const r of results) {
      for (const f of [...this.local.keys()]) this.dropLocal(f, r.clientId);
      if (r.ok) for (const f of r.channels) this.addLocal(f, r.clientId);
    }
    return results;
  }

  // ---- Internals ----

  /** Runs a script and parses its JSON answer. */
  private async run<T>(name: ScriptName, ...args: string[]): Promise<T> {
    return JSON.parse(String(await this.runRaw(name, ...args))) as T;
  }

  private runRaw(name: ScriptName, ...args: string[]): Promise<unknown> {
    const call = (this.redis as unknown as Record<string, ScriptCall>)[commandName(name)];
    if (!call) throw new Error(`script ${name} is not defined`);
    return this.guard(() => call.call(this.redis, this.prefix, ...args));
  }

  /** Turns "Redis is unreachable" into NetworkUnavailableError; anything else is a bug and passes. */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof NetworkUnavailableError || !isUnavailable(error)) throw error;
      throw new NetworkUnavailableError(`redis unavailable: ${(error as Error).message}`, { cause: error });
    }
  }

  private addLocal(folded: string, clientId: number): void {
    if (nodeOf(clientId) !== this.nodeIndex) return;
    let members = this.local.get(folded);
    if (!members) this.local.set(folded, (members = new Set()));
    members.add(clientId);
  }

  private dropLocal(folded: string, clientId: number): void {
    const members = this.local.get(folded);
    if (!members) return;
    members.delete(clientId);
    if (members.size === 0) {
      this.local.delete(folded);
      this.unfollowIfIdle(folded);
    }
  }

  /** A local join of `folded` starts: follow it first (once; concurrent joins share the wait). */
  private async beginJoin(folded: string): Promise<void> {
    this.joining.set(folded, (this.joining.get(folded) ?? 0) + 1);
    let following = this.followed.get(folded);
    if (!following) {
      following = Promise.resolve().then(() => this.follow(folded));
      this.followed.set(folded, following);
    }
    try {
      await this.guard(() => following);
    } catch (error) {
      // Not followed after all: the next join tries again.
      if (this.followed.get(folded) === following) this.followed.delete(folded);
      this.endJoin(folded);
      throw error;
    }
  }

  private endJoin(folded: string): void {
    const n = (this.joining.get(folded) ?? 1) - 1;
    if (n > 0) this.joining.set(folded, n);
    else this.joining.delete(folded);
    this.unfollowIfIdle(folded);
  }

  private unfollowIfIdle(folded: string): void {
    if (this.local.has(folded) || this.joining.has(folded) || !this.followed.has(folded)) return;
    this.followed.delete(folded);
    // Best effort: a failed unsubscribe only means messages for nobody here arrive and are dropped.
    void Promise.resolve().then(() => this.unfollow(folded)).catch(() => {});
  }
}

type RawTargeted = { ok: true; channel: string; target: RawUser } | Refusal<Exclude<TargetedResult, { ok: true }>['reason']>;

function targeted(r: RawTargeted): TargetedResult {
  return r.ok ? { ok: true, channel: r.channel, target: userRecord(r.target) } : r;
}
