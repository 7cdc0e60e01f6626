-- Shared by every script: scripts.ts sends this file followed by one script as one text (once,
-- EVALSHA afterwards), so these locals are in scope there. Everything is `local`: Redis refuses
-- a script that writes a global. KEYS[1] is the key prefix; each script reads its own ARGV.
--
-- Key schema. Every key starts with the prefix (`irc:{<network>}:`; the `{...}` hash tag puts all
-- of them in one Redis Cluster slot, so a script may touch any of them). `<id>` is a network-wide
-- client id in decimal (ids.ts), `<f>` a folded channel name (casemap.ts), `<n>` a node index.
--   nicks          hash   folded nick -> id of the client holding it (registered or not)
--   user:<id>      hash   nick (display), folded, node, registered '0'|'1', user, host,
--                         realname, server, tls '0'|'1', modes, signonAt, lastActiveAt (ms),
--                         away (absent when not away), account (absent when not logged in)
--   uchans:<id>    zset   folded channels the client is in, scored by join sequence
--   node:<n>       set    ids of the clients node n holds (every nick holder), for removeNode
--   channels       zset   folded names of every channel, scored by creation sequence (LIST order)
--   chan:<f>       hash   name (display), createdAt, flags (sorted letters), key?, limit?,
--                         topic?, topicBy?, topicAt?, renamedAt? (last RENAME, ms)
--   members:<f>    zset   member ids, scored by join sequence (join order)
--   mstat:<f>      hash   member id -> status letters: '', 'o', 'v' or 'ov'
--   bans:<f>       list   JSON {mask, setBy, setAt}, oldest first: +b; the same shape in
--   excepts:<f>, invex:<f>, quiets:<f> for +e, +I and +q (LIST_KEYS)
--   invites:<f>    zset   ids with a pending invite, scored by sequence (oldest popped first)
--   whowas         list   JSON {nick, user, host, realname, server, at}, newest first, capped
--   seq            string counter giving the sequences above
--   counts         hash   users (registered), invisible (registered +i), operators (registered
--                         +o), unknown (nick holders
--                         not registered), maxUsers (most registered at once, network-wide)
--   nodes          hash   node -> clients it holds (a node is listed while it holds any)
--   nodeUsers      hash   node -> registered users on it (LUSERS local users)
--   nodeMax        hash   node -> most registered users it has had at once
-- Times and ids travel as decimal strings, never as Lua numbers: Lua prints numbers with 14
-- significant digits, which would round ids past 10^14.

local P = KEYS[1]
local NULL = cjson.null
local FLAG_MODES = { M = true, R = true, i = true, m = true, n = true, s = true, t = true }
-- A channel's mask lists by mode letter: the key of each list, before the folded name.
local LIST_KEYS = { b = 'bans:', e = 'excepts:', I = 'invex:', q = 'quiets:' }
-- Every key a channel has, before the folded name: what goes when it empties, moves on RENAME.
local CHANNEL_KEYS = { 'chan:', 'members:', 'mstat:', 'invites:', 'bans:', 'excepts:', 'invex:', 'quiets:' }

-- The Lua copy of casemap.ts (fold, matchesMask), for the checks made inside Redis (bans, WHO
-- masks); test/redis/luaCasemap.test.ts holds the two to the same answers.
-- fold: A-Z and [\]^ to a-z and {|}~ (bytes >= 0x80 untouched, as in UTF-16 there).
local function fold(s)
  return (string.gsub(s, '[A-Z%[\\%]%^]', function(c) return string.char(string.byte(c) + 32) end))
end

-- Index just past the UTF-8 character at i, so '?' takes one character, not one byte (casemap.ts
-- takes one UTF-16 unit: the same up to U+FFFF, half a character past it).
local function nextChar(s, i)
  i = i + 1
  local b = string.byte(s, i)
  while b and b >= 128 and b < 192 do i = i + 1; b = string.byte(s, i) end
  return i
end

-- matchesMask: greedy, remembering only the last '*', so at most mask x name steps
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
    server = u.server, tls = u.tls == '1', away = u.away or NULL, account = u.account or NULL, modes = u.modes,
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

-- Whether any mask of one of channel f's lists (a LIST_KEYS letter) matches nick!user@host.
local function listMatches(mode, f, nuh)
  for _, raw in ipairs(redis.call('LRANGE', P .. LIST_KEYS[mode] .. f, 0, -1)) do
    if matches(cjson.decode(raw).mask, nuh) then return true end
  end
  return false
end

-- Channel f's mask lists, each as its JSON entries (oldest first), by mode letter.
local function maskLists(f)
  local out = {}
  for mode, prefix in pairs(LIST_KEYS) do out[mode] = redis.call('LRANGE', P .. prefix .. f, 0, -1) end
  return out
end

-- Takes a member out of a channel; a channel left empty disappears with everything it held.
local function leave(id, f)
  redis.call('ZREM', P .. 'uchans:' .. id, f)
  redis.call('ZREM', P .. 'members:' .. f, id)
  redis.call('HDEL', P .. 'mstat:' .. f, id)
  if redis.call('ZCARD', P .. 'members:' .. f) == 0 then
    for _, prefix in ipairs(CHANNEL_KEYS) do redis.call('DEL', P .. prefix .. f) end
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
    if hasFlag(u.modes, 'o') then redis.call('HINCRBY', P .. 'counts', 'operators', -1) end
    remember(u, at, size)
  else
    redis.call('HINCRBY', P .. 'counts', 'unknown', -1)
  end
  return u, channels
end

local function refuse(reason) return cjson.encode({ ok = false, reason = reason }) end
