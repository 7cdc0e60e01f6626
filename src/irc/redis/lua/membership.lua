-- One nick's status in a channel, or null. Read-only, so the answer is one consistent snapshot.
local id = redis.call('HGET', P .. 'nicks', ARGV[2])
if not id then return cjson.encode(NULL) end
local st = redis.call('HGET', P .. 'mstat:' .. ARGV[1], id)
if not st then return cjson.encode(NULL) end
return cjson.encode({ op = hasFlag(st, 'o'), voice = hasFlag(st, 'v') })
