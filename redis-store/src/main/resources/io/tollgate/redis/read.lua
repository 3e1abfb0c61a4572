-- Current values of counters of one slot group, read-only (after prelude.lua).
--
-- KEYS       counter keys of the windows the caller expects at the store time it guessed
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2..3] lo, hi: the store time must lie in [lo, hi) (see reserve.lua), else the reply is {-2, now}
--
-- Reply: {1, now, used_1 .. used_n}, used_i as text.

local now = store_time(ARGV[1])
if outside(now, ARGV[2], ARGV[3]) then
  return {-2, now}
end
local reply = {1, now}
if #KEYS > 0 then
  local values = call('MGET', unpack(KEYS))
  for i = 1, #KEYS do
    reply[i + 2] = values[i] or '0'
  end
end
return reply
