-- Every channel in creation order, for LIST.
local out = {}
for _, f in ipairs(redis.call('ZRANGE', P .. 'channels', 0, -1)) do
  local c = redis.call('HMGET', P .. 'chan:' .. f, 'name', 'topic', 'flags')
  if c[1] then
    out[#out + 1] = { name = c[1], memberCount = redis.call('ZCARD', P .. 'members:' .. f),
      topic = c[2] or NULL, secret = hasFlag(c[3], 's') }
  end
end
return cjson.encode(out)
