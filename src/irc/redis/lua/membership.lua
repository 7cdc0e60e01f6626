-- Whether a folded nick is on a channel and with what status, or null.
local id = redis.call('HGET', P .. 'nicks', ARGV[2])
if not id then return cjson.encode(NULL) end
local st = redis.call('HGET', P .. 'mstat:' .. ARGV[1], id)
if not st then return cjson.encode(NULL) end
return cjson.encode({ op = hasFlag(st, 'o'), voice = hasFlag(st, 'v') })
