-- User modes, keeping the invisible and operator counts in step.
local key = userKey(ARGV[1])
local u = hgetall(key)
if u.nick == nil then return 0 end
if u.registered == '1' then
  local was, now = hasFlag(u.modes, 'i'), hasFlag(ARGV[2], 'i')
  if was ~= now then redis.call('HINCRBY', P .. 'counts', 'invisible', now and 1 or -1) end
  local wasOp, nowOp = hasFlag(u.modes, 'o'), hasFlag(ARGV[2], 'o')
  if wasOp ~= nowOp then redis.call('HINCRBY', P .. 'counts', 'operators', nowOp and 1 or -1) end
end
redis.call('HSET', key, 'modes', ARGV[2])
return 1
