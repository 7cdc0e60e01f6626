-- Every join check in MemoryState's order (+e over +b, +I or an invite over +i and +R), and the channel created with the joiner as op.
local id, name, f, hasKey, key, maxChannels, createFlags, at =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local u = hgetall(userKey(id))
if u.nick == nil then return refuse('notUser') end
local mkey, ckey = P .. 'members:' .. f, P .. 'chan:' .. f
if redis.call('ZSCORE', mkey, id) then return refuse('alreadyOn') end
if redis.call('ZCARD', P .. 'uchans:' .. id) >= maxChannels then return refuse('tooManyChannels') end
local created = redis.call('EXISTS', ckey) == 0
if created then
  redis.call('HSET', ckey, 'name', name, 'createdAt', at, 'flags', createFlags)
  redis.call('ZADD', P .. 'channels', seq(), f)
else
  local c = hgetall(ckey)
  local nuh = u.nick .. '!' .. u.user .. '@' .. u.host
  local invited = redis.call('ZSCORE', P .. 'invites:' .. f, id) or listMatches('I', f, nuh)
  if listMatches('b', f, nuh) and not listMatches('e', f, nuh) then return refuse('banned') end
  if hasFlag(c.flags, 'i') and not invited then return refuse('inviteOnly') end
  if c.key and (hasKey ~= '1' or key ~= c.key) then return refuse('badKey') end
  if c.limit and redis.call('ZCARD', mkey) >= tonumber(c.limit) then return refuse('full') end
  if hasFlag(c.flags, 'R') and not u.account and not invited then return refuse('needsAccount') end
end
redis.call('ZREM', P .. 'invites:' .. f, id)
local s = seq()
redis.call('ZADD', mkey, s, id)
redis.call('HSET', P .. 'mstat:' .. f, id, created and 'o' or '')
redis.call('ZADD', P .. 'uchans:' .. id, s, f)
return cjson.encode({ ok = true, created = created, channel = channelRecord(f) })
