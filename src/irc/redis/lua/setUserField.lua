-- Away, account, realname and idle time: a field set only on a client that still exists (never
-- a half record).
local key = userKey(ARGV[1])
if redis.call('EXISTS', key) == 0 then return 0 end
if ARGV[3] == '1' then redis.call('HSET', key, ARGV[2], ARGV[4]) else redis.call('HDEL', key, ARGV[2]) end
return 1
