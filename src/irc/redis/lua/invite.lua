-- The inviter's rights and the invitee's absence checked with the write; oldest invite dropped past the cap.
local id, f, folded, maxInvites = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local tid, tu = registeredByNick(folded)
if not tid then return refuse('noSuchNick') end
local c = hgetall(P .. 'chan:' .. f)
if c.name == nil then return refuse('noSuchChannel') end
local st = redis.call('HGET', P .. 'mstat:' .. f, id)
if not st then return refuse('notOn') end
if hasFlag(c.flags, 'i') and not hasFlag(st, 'o') then return refuse('notOp') end
if redis.call('ZSCORE', P .. 'members:' .. f, tid) then return refuse('alreadyOn') end
local ikey = P .. 'invites:' .. f
redis.call('ZADD', ikey, seq(), tid)
if redis.call('ZCARD', ikey) > maxInvites then redis.call('ZPOPMIN', ikey, 1) end
return cjson.encode({ ok = true, channel = c.name, target = record(tid, tu) })
