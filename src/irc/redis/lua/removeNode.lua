-- Every client of a node leaves (a dead node's users): safe to repeat, the second finds none.
-- ARGV[4] '1': only if the node is still silent (its heartbeat key absent), checked in this same
-- step, so a node that was only late and beat again meanwhile is not taken off the network.
local node, at, size = ARGV[1], ARGV[2], tonumber(ARGV[3])
if ARGV[4] == '1' and redis.call('EXISTS', P .. 'presence:' .. node .. ':alive') == 1 then return cjson.encode({}) end
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node)) do
  local u, channels = removeUser(id, at, size)
  if u then out[#out + 1] = { clientId = id, nick = u.nick, user = u.user, host = u.host, channels = channels,
    registered = u.registered == '1' } end
end
redis.call('DEL', P .. 'node:' .. node)
redis.call('HDEL', P .. 'nodes', node)
redis.call('HDEL', P .. 'nodeUsers', node)
redis.call('HDEL', P .. 'nodeMax', node)
return cjson.encode(out)
