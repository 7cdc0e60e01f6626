-- CHGHOST: another displayed user and host for the registered user holding a folded nick, in
-- one step with finding it. Answers its record as it was, or null.
local id, u = registeredByNick(ARGV[1])
if not id then return cjson.encode(NULL) end
redis.call('HSET', userKey(id), 'user', ARGV[2], 'host', ARGV[3])
return cjson.encode(record(id, u))
