-- Out of every channel, nick freed, WHOWAS written: the client leaves as one step.
local u, channels = removeUser(ARGV[1], ARGV[2], tonumber(ARGV[3]))
if not u then return cjson.encode(NULL) end
return cjson.encode({ nick = u.nick, channels = channels, registered = u.registered == '1' })
