-- Raises counters of still-current windows to at least their snapshot values (after prelude.lua).
--
-- KEYS[1..4] marker (not read), change log, change sequence, last mark (see prelude.lua)
-- KEYS[5..]  counter keys, window start included
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2]    expired window retention in ms
-- then per counter: value, window end in ms ('' when the window never ends)
--
-- Reply: {now, number of counters raised}

local now = store_time(ARGV[1])
local retention = tonumber(ARGV[2])
local changed = {}
for i = 5, #KEYS do
  local value = ARGV[2 * i - 7]
  local window_end = ARGV[2 * i - 6]
  if window_end == '' or tonumber(window_end) > now then
    local current = call('GET', KEYS[i]) or '0'
    if compare_sum(current, '0', value) < 0 then
      if window_end == '' then
        call('SET', KEYS[i], value)
      else
        call('SET', KEYS[i], value, 'PX', ttl(tonumber(window_end), now, retention))
      end
      changed[#changed + 1] = KEYS[i]
    end
  end
end
log_changes(changed, call('GET', KEYS[4]))
return {now, #changed}
