-- Raises counters of one slot group to at least their snapshot values, for windows that have not ended (after
-- prelude.lua).
--
-- KEYS[1]    data epoch
-- KEYS[2..]  counter keys
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2]    '1' for a restore after data loss: it changes nothing once the epoch is set again (another replica's
--            restore finished first, and calls may have lowered counters since); '' for a restore on request
-- then per counter: value, window end in ms ('' when the window never ends), and when the counter expires in store
-- time ms ('' for never)
--
-- Reply: {now, number of counters raised}

local now = store_time(ARGV[1])
if ARGV[2] == '1' and call('EXISTS', KEYS[1]) == 1 then
  return {now, 0}
end
local raised = 0
local p = 3
for i = 2, #KEYS do
  local value, window_end, expiry = ARGV[p], ARGV[p + 1], ARGV[p + 2]
  if window_end == '' or tonumber(window_end) > now then
    local current = call('GET', KEYS[i]) or '0'
    if compare(current, value) < 0 then
      create(KEYS[i], value, expiry, now)
      raised = raised + 1
    end
  end
  p = p + 3
end
return {now, raised}
