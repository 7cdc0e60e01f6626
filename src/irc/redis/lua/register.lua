-- Registration moves the client from 'unknown' to 'users' in the counts, in one step.
local id = ARGV[1]
local key = userKey(id)
local u = hgetall(key)
if u.nick == nil then return cjson.encode({ ok = false }) end
if u.registered == '1' then
  if hasFlag(u.modes, 'i') then redis.call('HINCRBY', P .. 'counts', 'invisible', -1) end
  if hasFlag(u.modes, 'o') then redis.call('HINCRBY', P .. 'counts', 'operators', -1) end
else
  redis.call('HINCRBY', P .. 'counts', 'unknown', -1)
  countRegistered(u.node, 1)
end
redis.call('HSET', key, 'registered', '1', 'user', ARGV[2], 'host', ARGV[3], 'realname', ARGV[4],
  'server', ARGV[5], 'tls', ARGV[6], 'modes', ARGV[7], 'signonAt', ARGV[8], 'lastActiveAt', ARGV[8])
if hasFlag(ARGV[7], 'i') then redis.call('HINCRBY', P .. 'counts', 'invisible', 1) end
if hasFlag(ARGV[7], 'o') then redis.call('HINCRBY', P .. 'counts', 'operators', 1) end
return cjson.encode({ ok = true })
