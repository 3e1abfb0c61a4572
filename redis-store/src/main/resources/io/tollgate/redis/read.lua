-- Current values of a list of counters, read-only (after prelude.lua).
--
-- KEYS       counter keys of the windows the replica's clock expects (see window_key)
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2..]  window groups (see windows)
-- then per counter: window group
--
-- Reply: {now, used_1 .. used_n, start of group 1 .. start of group g}, used_i as text.

local now = store_time(ARGV[1])
local starts, _, guesses, p = windows(now, 2)
if not starts then
  return _
end
local n = #KEYS
local keys = {}
for i = 1, n do
  local g = tonumber(ARGV[p + i - 1])
  keys[i] = window_key(KEYS[i], starts[g], guesses[g])
end
local values = {}
if n > 0 then
  values = call('MGET', unpack(keys))
end
local reply = {now}
for i = 1, n do
  reply[1 + i] = values[i] or '0'
end
for g = 1, #starts do
  reply[1 + n + g] = starts[g]
end
return reply
