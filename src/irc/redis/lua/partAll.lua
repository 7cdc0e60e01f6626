-- JOIN 0: every channel left in one step; display and folded names back.
local id = ARGV[1]
local names, folded = {}, {}
for _, f in ipairs(redis.call('ZRANGE', P .. 'uchans:' .. id, 0, -1)) do
  local name = redis.call('HGET', P .. 'chan:' .. f, 'name')
  if name then names[#names + 1] = name; folded[#folded + 1] = f end
  leave(id, f)
end
return cjson.encode({ names = names, folded = folded })
