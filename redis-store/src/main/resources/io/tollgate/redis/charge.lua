-- A charge for one request's whole list of limits, atomically and at most once per idempotency key (after
-- prelude.lua).
--
-- KEYS[1..4] marker, change log, change sequence, last mark (see prelude.lua); when the marker is missing nothing
--            changes and the reply is {-1}
-- KEYS[5]    idempotency key; when it is present nothing changes and the reply is {0} (a duplicate)
-- KEYS[6..]  counter keys of the windows the replica's clock expects (see window_key)
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2]    expired window retention in ms
-- ARGV[3]    idempotency key lifetime in ms
-- ARGV[4]    value stored under the idempotency key (a token of this call, so that release.lua can undo it)
-- ARGV[5..]  window groups (see windows)
-- then per counter: amount, release, start of the window to release from, window group
--
-- Reply: {1, marker, start of group 1 .. start of group g, released_1 .. released_n} when applied, released_i what
-- was actually given back (text, '0' when the window was gone), marker the data-loss marker's value. Every check
-- comes before the first write, so an error leaves everything as it was.

local now = store_time(ARGV[1])
local retention = tonumber(ARGV[2])
local starts, ends, guesses, p = windows(now, 5)
if not starts then
  return ends
end
local n = #KEYS - 5
local keys, amounts, releases, release_keys, groups = {KEYS[1], KEYS[4], KEYS[5]}, {}, {}, {}, {}
for i = 1, n do
  local sent = KEYS[i + 5]
  local g = tonumber(ARGV[p + 3])
  amounts[i], releases[i], groups[i] = ARGV[p], ARGV[p + 1], g
  keys[i + 3] = window_key(sent, starts[g], guesses[g])
  if releases[i] ~= '0' then
    release_keys[i] = key_base(sent, guesses[g]) .. ARGV[p + 2]
  end
  p = p + 4
end
-- one read for the marker, the last mark, the idempotency key and every counter
local values = call('MGET', unpack(keys))
if not values[1] then
  return {-1}
end
if values[3] then
  return {0}
end
for i = 1, n do
  local used = values[i + 3]
  if used and compare_sum(used, amounts[i], LONG_MAX) > 0 then
    return redis.error_reply('TOLLGATE_OVERFLOW overflow: ' .. keys[i + 3] .. ' at ' .. used .. ' cannot take '
        .. amounts[i] .. ' more: a counter holds at most 2^63 - 1')
  end
end
call('SET', KEYS[5], ARGV[4], 'PX', ARGV[3])
local changed = {}
local released = {}
for i = 1, n do
  released[i] = '0'
  local release_key = release_keys[i]
  if release_key then
    local held = call('GET', release_key)
    if held then
      if compare_sum(held, '0', releases[i]) > 0 then
        call('DECRBY', release_key, releases[i])
        released[i] = releases[i]
      else
        call('SET', release_key, '0', 'KEEPTTL')
        released[i] = held
      end
      changed[#changed + 1] = release_key
    end
  end
  if amounts[i] ~= '0' then
    local key = keys[i + 3]
    add_to_counter(key, amounts[i], values[i + 3], ends[groups[i]], now, retention)
    -- a key listed twice (released from and added to the same window) is harmless: one entry results
    changed[#changed + 1] = key
  end
end
log_changes(changed, values[2])
local reply = {1, values[1]}
for g = 1, #starts do
  reply[2 + g] = starts[g]
end
for i = 1, n do
  reply[2 + #starts + i] = released[i]
end
return reply
