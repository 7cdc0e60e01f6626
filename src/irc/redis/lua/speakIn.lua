-- May client ARGV[2] (shown as nick!user@host ARGV[3], logged in when ARGV[4] is '1') speak in
-- channel ARGV[1] (folded)? The channel, its status for the speaker and its lists are read in
-- this one step, so no MODE or KICK falls between them (the rule is networkState.ts's
-- maySpeakIn). Null when there is no such channel.
local f = ARGV[1]
local channel = channelRecord(f)
if channel == NULL then return cjson.encode(NULL) end
local st = redis.call('HGET', P .. 'mstat:' .. f, ARGV[2])
local membership = NULL
local allowed
if st then membership = { op = hasFlag(st, 'o'), voice = hasFlag(st, 'v') } end
if st and (hasFlag(st, 'o') or hasFlag(st, 'v')) then
  allowed = true
else
  local flags = channel.modes.flags or ''
  if (hasFlag(flags, 'n') and not st) or hasFlag(flags, 'm') or (hasFlag(flags, 'M') and ARGV[4] ~= '1') then
    allowed = false
  else
    local nuh = ARGV[3]
    allowed = not ((listMatches('b', f, nuh) or listMatches('q', f, nuh)) and not listMatches('e', f, nuh))
  end
end
return cjson.encode({ channel = channel, membership = membership, allowed = allowed })
