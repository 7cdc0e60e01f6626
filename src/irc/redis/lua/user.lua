-- The registered user holding a folded nick, or null.
local id, u = registeredByNick(ARGV[1])
if not id then return cjson.encode(NULL) end
return cjson.encode(record(id, u))
