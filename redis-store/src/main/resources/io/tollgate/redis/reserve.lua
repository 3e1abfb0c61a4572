-- Check-and-reserve for one request's whole list of limits, atomically (after prelude.lua).
--
-- KEYS[1..4] marker, change log, change sequence, last mark (see prelude.lua); when the marker is missing nothing
--            changes and the reply is {-1}
-- KEYS[5..]  counter keys of the windows the replica's clock expects (see window_key)
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2]    expired window retention in ms
-- ARGV[3..]  window groups (see windows)
-- then per counter: amount, max, window group
--
-- Reply: {1, now, admitted (1 or 0), used_1 .. used_n, start of group 1 .. start of group g, marker}, used_i the
-- value before the call as text, marker the data-loss marker's value (which a release of this reservation passes
-- back, see release.lua). Only if every counter fits is every amount added.

local now = store_time(ARGV[1])
local retention = tonumber(ARGV[2])
local starts, ends, guesses, p = windows(now, 3)
if not starts then
  return ends
end
local n = #KEYS - 4
local keys, amounts, maxes, groups = {KEYS[1], KEYS[4]}, {}, {}, {}
for i = 1, n do
  local g = tonumber(ARGV[p + 2])
  amounts[i], maxes[i], groups[i] = ARGV[p], ARGV[p + 1], g
  keys[i + 2] = window_key(KEYS[i + 4], starts[g], guesses[g])
  p = p + 3
end
-- one read for the marker, the last mark and every counter
local values = call('MGET', unpack(keys))
if not values[1] then
  return {-1}
end
local reply = {1, now, 1}
local admitted = true
for i = 1, n do
  local used = values[i + 2] or '0'
  reply[3 + i] = used
  if admitted and not fits(used, amounts[i], maxes[i]) then
    admitted = false
  end
end
for g = 1, #starts do
  reply[3 + n + g] = starts[g]
end
reply[4 + n + #starts] = values[1]
if not admitted then
  reply[3] = 0
  return reply
end
local changed = {}
for i = 1, n do
  if amounts[i] ~= '0' then
    local key = keys[i + 2]
    add_to_counter(key, amounts[i], values[i + 2], ends[groups[i]], now, retention)
    changed[#changed + 1] = key
  end
end
log_changes(changed, values[2])
return reply
