-- One user back after Redis lost it: the nick only if still free (SET-NX), then its channels
-- with their status (a vanished channel recreated from the state given). ARGV[5] is JSON.
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
if r.account ~= NULL then redis.call('HSET', key, 'account', r.account) end
redis.call('HSET', P .. 'nicks', r.folded, id)
redis.call('SADD', P .. 'node:' .. node, id)
countHolder(node, 1)
if r.registered then
  countRegistered(node, 1)
  if hasFlag(r.modes, 'i') then redis.call('HINCRBY', P .. 'counts', 'invisible', 1) end
  if hasFlag(r.modes, 'o') then redis.call('HINCRBY', P .. 'counts', 'operators', 1) end
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
      for mode, prefix in pairs(LIST_KEYS) do
        for _, b in ipairs(s.lists[mode] or {}) do redis.call('RPUSH', P .. prefix .. f, cjson.encode(b)) end
      end
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
