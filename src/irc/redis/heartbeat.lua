-- One beat's claim on node index KEYS[1] (presence:<i>:alive), in one step: refresh the key with
-- our token ARGV[1] for ARGV[2] ms if it is ours or gone. Returns 1 when it was there, 2 when it
-- had gone (we were silent past nodeTimeoutMs, or Redis lost it), 0 when another node's token
-- is there (it drew our index).
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if held then return 1 end
return 2
