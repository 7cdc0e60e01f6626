-- The LUSERS numbers: network-wide counts and node ARGV[1]'s own.
local node = ARGV[1]
local c = hgetall(P .. 'counts')
local servers = redis.call('HLEN', P .. 'nodes')
if redis.call('HEXISTS', P .. 'nodes', node) == 0 then servers = servers + 1 end
return cjson.encode({ users = c.users or '0', invisible = c.invisible or '0', unknown = c.unknown or '0', operators = c.operators or '0',
  maxUsers = c.maxUsers or '0', channels = redis.call('ZCARD', P .. 'channels'), servers = servers,
  localUsers = redis.call('HGET', P .. 'nodeUsers', node) or '0',
  maxLocalUsers = redis.call('HGET', P .. 'nodeMax', node) or '0' })
