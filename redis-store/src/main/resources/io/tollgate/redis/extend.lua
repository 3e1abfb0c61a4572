-- Extends a lease of one slot group, if it is still held (after prelude.lua).
--
-- KEYS[1]    lease set
-- KEYS[2]    the lease's plan, which lives on beside it
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2]    the lease entry
-- ARGV[3]    lease duration in ms, from now
-- ARGV[4]    how long the lease plan lives from now, in ms
--
-- Reply: {1} when extended, {0} when the lease was settled or has expired.

local now = store_time(ARGV[1])
if not call('ZSCORE', KEYS[1], ARGV[2]) then
  return {0}
end
call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
call('PEXPIRE', KEYS[2], ARGV[4])
return {1}
