-- All mode changes under one op check (none when a service makes them: ARGV[6] '1'); changes
-- are ARGV quads (adding, mode, param, folded param).
local id, f, maxBans, setBy, at, asService = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6] == '1'
local ckey, skey = P .. 'chan:' .. f, P .. 'mstat:' .. f
local c = hgetall(ckey)
if c.name == nil then return refuse('noSuchChannel') end
if not asService and not hasFlag(redis.call('HGET', skey, id) or '', 'o') then return refuse('notOp') end
local applied, errors = {}, {}
local flags = c.flags
for i = 7, #ARGV, 4 do
  local adding, mode, param, folded = ARGV[i] == '1', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if FLAG_MODES[mode] then
    if hasFlag(flags, mode) ~= adding then
      flags = withFlag(flags, mode, adding)
      redis.call('HSET', ckey, 'flags', flags)
      applied[#applied + 1] = { adding = adding, mode = mode }
    end
  elseif mode == 'k' then
    local key = redis.call('HGET', ckey, 'key')
    if adding then
      if key ~= param and param ~= '' then
        redis.call('HSET', ckey, 'key', param)
        applied[#applied + 1] = { adding = adding, mode = mode, param = param }
      end
    elseif key then
      redis.call('HDEL', ckey, 'key')
      applied[#applied + 1] = { adding = adding, mode = mode, param = '*' }
    end
  elseif mode == 'l' then
    -- param arrives normalised by the caller ('' when not a positive safe integer).
    local limit = redis.call('HGET', ckey, 'limit')
    if adding then
      if param ~= '' and limit ~= param then
        redis.call('HSET', ckey, 'limit', param)
        applied[#applied + 1] = { adding = adding, mode = mode, param = param }
      end
    elseif limit then
      redis.call('HDEL', ckey, 'limit')
      applied[#applied + 1] = { adding = adding, mode = mode }
    end
  elseif mode == 'o' or mode == 'v' then
    local tid, tu = registeredByNick(folded)
    if not tid then
      errors[#errors + 1] = { error = 'noSuchNick', mode = mode, param = param }
    else
      local st = redis.call('HGET', skey, tid)
      if not st then
        errors[#errors + 1] = { error = 'notOnChannel', mode = mode, param = tu.nick }
      elseif hasFlag(st, mode) ~= adding then
        redis.call('HSET', skey, tid, withFlag(st, mode, adding))
        applied[#applied + 1] = { adding = adding, mode = mode, param = tu.nick }
      end
    end
  elseif LIST_KEYS[mode] then
    local lkey = P .. LIST_KEYS[mode] .. f
    local entries = redis.call('LRANGE', lkey, 0, -1)
    local found, foundMask
    for _, raw in ipairs(entries) do
      local b = cjson.decode(raw)
      if fold(b.mask) == folded then found = raw; foundMask = b.mask; break end
    end
    if adding then
      if not found and param ~= '' then
        if #entries >= maxBans then
          errors[#errors + 1] = { error = 'listFull', mode = mode, param = param }
        else
          redis.call('RPUSH', lkey, cjson.encode({ mask = param, setBy = setBy, setAt = at }))
          applied[#applied + 1] = { adding = adding, mode = mode, param = param }
        end
      end
    elseif found then
      redis.call('LREM', lkey, 1, found)
      applied[#applied + 1] = { adding = adding, mode = mode, param = foundMask }
    end
  end
end
return cjson.encode({ ok = true, channel = c.name, applied = applied, errors = errors })
