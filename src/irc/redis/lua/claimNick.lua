-- The nick goes to this client unless another holds it; the old nick is freed and remembered
-- (if registered) in the same step, so two racing claims cannot both win.
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
