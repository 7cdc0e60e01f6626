-- RENAME: the channel and everything it holds move to the new folded name in one step, the
-- renamer checked as an operator and the new name as free (a change of case only keeps the keys).
-- Every node hears of it from here, on the `renames` pub/sub channel, in the same step: a node
-- that dies after this script ran cannot leave the others' local indexes on the old name.
local id, f, newName, nf, node, at, cooldown = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local old = redis.call('HGET', P .. 'chan:' .. f, 'name')
if not old then return refuse('noSuchChannel') end
local st = redis.call('HGET', P .. 'mstat:' .. f, id)
if not st then return refuse('notOn') end
if not hasFlag(st, 'o') then return refuse('notOp') end
local renamedAt = redis.call('HGET', P .. 'chan:' .. f, 'renamedAt')
if renamedAt and tonumber(at) - tonumber(renamedAt) < tonumber(cooldown) then return refuse('renamedRecently') end
local members = redis.call('ZRANGE', P .. 'members:' .. f, 0, -1)
if nf ~= f then
  if redis.call('EXISTS', P .. 'chan:' .. nf) == 1 then return refuse('nameInUse') end
  for _, k in ipairs(CHANNEL_KEYS) do
    -- Nothing of a channel outlives it (leave), but a stale key must not merge into this one.
    redis.call('DEL', P .. k .. nf)
    if redis.call('EXISTS', P .. k .. f) == 1 then redis.call('RENAME', P .. k .. f, P .. k .. nf) end
  end
  -- Its place in LIST order (creation sequence) and in each member's channels (join sequence) kept.
  redis.call('ZADD', P .. 'channels', redis.call('ZSCORE', P .. 'channels', f), nf)
  redis.call('ZREM', P .. 'channels', f)
  for _, m in ipairs(members) do
    local score = redis.call('ZSCORE', P .. 'uchans:' .. m, f)
    if score then
      redis.call('ZADD', P .. 'uchans:' .. m, score, nf)
      redis.call('ZREM', P .. 'uchans:' .. m, f)
    end
  end
  redis.call('PUBLISH', P .. 'renames', cjson.encode({ o = tonumber(node), c = { type = 'renameChannel', from = f, to = nf } }))
end
redis.call('HSET', P .. 'chan:' .. nf, 'name', newName, 'renamedAt', at)
return cjson.encode({ ok = true, from = old, channel = channelRecord(nf), members = members })
