-- The registered user holding a folded nick (WHOIS), or null. Read-only, so the answer is one consistent snapshot.
local id, u = registeredByNick(ARGV[1])
if not id then return cjson.encode(NULL) end
return cjson.encode(record(id, u))
