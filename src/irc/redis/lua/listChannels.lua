-- Every channel in creation order, for LIST.
local out = {}
for _, f in ipairs(redis.call('ZRANGE', P .. 'channels', 0, -1)) do
  local c = redis.call('HMGET', P .. 'chan:' .. f, 'name', 'topic', 'flags', 'createdAt', 'topicAt')
  if c[1] then
    out[#out + 1] = { name = c[1], memberCount = redis.call('ZCARD', P .. 'members:' .. f),
      topic = c[2] or NULL, secret = hasFlag(c[3], 's'), createdAt = tonumber(c[4]) or 0,
      topicSetAt = c[5] and tonumber(c[5]) or NULL }
  end
end
return cjson.encode(out)
