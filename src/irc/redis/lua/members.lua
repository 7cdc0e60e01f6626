-- A channel's members in join order, each with op and voice.
local f, out = ARGV[1], {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'members:' .. f, 0, -1)) do
  local u = hgetall(userKey(id))
  local st = redis.call('HGET', P .. 'mstat:' .. f, id) or ''
  if u.nick then out[#out + 1] = { user = record(id, u), op = hasFlag(st, 'o'), voice = hasFlag(st, 'v') } end
end
return cjson.encode(out)
