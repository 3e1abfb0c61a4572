-- Values of counters of one slot group for a snapshot flush, with a version that orders them (after prelude.lua).
--
-- KEYS[1]    data epoch; when it is missing the data was lost and the reply is {-1, now}
-- KEYS[2]    version sequence of the tag; a new one starts at a thousand per millisecond of store time, above every
--            version handed out before the data was lost
-- KEYS[3..]  counter keys
-- ARGV[1]    test time source in ms, or '' for Redis TIME
--
-- Reply: {1, now, epoch, version, value_1 .. value_n}, value_i text, or false for a counter that is gone. Values and
-- version are read at one instant: a later read of the same counter has a higher version.

local now = store_time(ARGV[1])
local values = call('MGET', unpack(KEYS))
if not values[1] then
  return {-1, now}
end
local version = call('INCR', KEYS[2])
if version == 1 then
  version = math.max(now, 1) * 1000
  call('SET', KEYS[2], format('%d', version))
end
local reply = {1, now, values[1], version}
for i = 3, #KEYS do
  reply[i + 2] = values[i]
end
return reply
