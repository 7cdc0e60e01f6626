-- Registered users whose nick, nick!user@host, host, server or realname matches a mask.
local mask, out = ARGV[1], {}
for _, id in ipairs(redis.call('HVALS', P .. 'nicks')) do
  local u = hgetall(userKey(id))
  if u.registered == '1' and (matches(mask, u.nick) or matches(mask, u.nick .. '!' .. u.user .. '@' .. u.host)
      or matches(mask, u.host) or matches(mask, u.server) or matches(mask, u.realname)) then
    out[#out + 1] = record(id, u)
  end
end
return cjson.encode(out)
