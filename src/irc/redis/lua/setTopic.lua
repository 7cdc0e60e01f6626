-- The member check and the +t op check in the same step as the write (none for a service
-- restoring a registered channel's topic: ARGV[7] '1').
local id, f, asService = ARGV[1], ARGV[2], ARGV[7] == '1'
local ckey = P .. 'chan:' .. f
local c = hgetall(ckey)
if c.name == nil then return refuse('noSuchChannel') end
local st = redis.call('HGET', P .. 'mstat:' .. f, id)
if not asService and not st then return refuse('notOn') end
if not asService and hasFlag(c.flags, 't') and not hasFlag(st, 'o') then return refuse('notOp') end
if ARGV[3] == '1' then
  redis.call('HSET', ckey, 'topic', ARGV[4], 'topicBy', ARGV[5], 'topicAt', ARGV[6])
else
  redis.call('HDEL', ckey, 'topic', 'topicBy', 'topicAt')
end
return cjson.encode({ ok = true, channel = c.name })
