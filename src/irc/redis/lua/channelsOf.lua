-- The channels a registered user is in, with secrecy and status.
local id = registeredByNick(ARGV[1])
local out = {}
if not id then return cjson.encode(out) end
for _, f in ipairs(redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1)) do
  local c = redis.call('HMGET', P .. 'chan:' .. f, 'name', 'flags')
  local st = redis.call('HGET', P .. 'mstat:' .. f, id)
  if c[1] and st then
    out[#out + 1] = { name = c[1], secret = hasFlag(c[2], 's'), op = hasFlag(st, 'o'), voice = hasFlag(st, 'v') }
  end
end
return cjson.encode(out)
