-- The client leaves one channel, which must exist and have it as a member.
local id, f = ARGV[1], ARGV[2]
local name = redis.call('HGET', P .. 'chan:' .. f, 'name')
if not name then return refuse('noSuchChannel') end
if not redis.call('ZSCORE', P .. 'members:' .. f, id) then return refuse('notOn') end
leave(id, f)
return cjson.encode({ ok = true, channel = name })
