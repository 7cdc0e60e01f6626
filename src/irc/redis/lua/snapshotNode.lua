-- Everything restore needs about one node's clients, read as one snapshot.
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'node:' .. ARGV[1])) do
  local u = hgetall(userKey(id))
  if u.nick then
    local channels = {}
    for _, f in ipairs(redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1)) do
      local c = channelRecord(f)
      local st = redis.call('HGET', P .. 'mstat:' .. f, id)
      if c ~= NULL and st then
        channels[#channels + 1] = { channel = c, op = hasFlag(st, 'o'), voice = hasFlag(st, 'v'),
          lists = maskLists(f) }
      end
    end
    out[#out + 1] = { user = record(id, u), registered = u.registered == '1', channels = channels }
  end
end
return cjson.encode(out)
