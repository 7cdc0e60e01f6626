-- The kicker's op status and the target's membership checked with the removal.
local id, f, folded = ARGV[1], ARGV[2], ARGV[3]
local name = redis.call('HGET', P .. 'chan:' .. f, 'name')
if not name then return refuse('noSuchChannel') end
local st = redis.call('HGET', P .. 'mstat:' .. f, id)
if not st then return refuse('notOn') end
if not hasFlag(st, 'o') then return refuse('notOp') end
local tid, tu = registeredByNick(folded)
if not tid then return refuse('noSuchNick') end
if not redis.call('ZSCORE', P .. 'members:' .. f, tid) then return refuse('targetNotOn') end
leave(tid, f)
return cjson.encode({ ok = true, channel = name, target = record(tid, tu) })
