-- Check-and-reserve for one slot group of a request, atomically (after prelude.lua).
--
-- KEYS[1]      data epoch; when it is missing the data was lost, nothing changes and the reply is {-1, now}
-- KEYS[2]      lease due time
-- KEYS[3..n+2] the n counter keys of the windows the caller expects at the store time it guessed
-- KEYS[n+3]    lease set
-- KEYS[n+4]    the lease plan of the holds (any key of the tag when nothing is held)
-- ARGV[1]      test time source in ms, or '' for Redis TIME
-- ARGV[2..3]   lo, hi: the store time must lie in [lo, hi) (hi '' for none), where every expected window holds it;
--              else nothing changes and the reply is {-2, now}, for the caller to try again with the windows of now
-- ARGV[4]      the lease entry to hold the holds under, or '' when nothing is held
-- ARGV[5]      lease duration in ms
-- ARGV[6]      the lease plan's text to write (the keys of the held counters), or '' when it was written lately
-- ARGV[7]      how long the lease plan lives from now, in ms
-- ARGV[8]      r, the number of runs of counters that expire together, then r pairs: how many counters (in KEYS
--              order), and when a counter of theirs that the call creates expires, in store time ms ('' for never)
-- then per counter: need (amount and hold together), and threshold (the highest value that still leaves room for
-- the need, '-1' when nothing does)
-- then, only for a call that refills slices of leased admission: the largest share of a counter's room one slice
-- may take, and per counter the slice wanted ('0' for none)
--
-- Reply: {epoch, admitted (1 or 0), used_1 .. used_n, now, [slice_1 .. slice_n,] keys given back by expired
-- leases ..}, used_i the value before the call as text, or nil where the counter does not exist, slice_i what the
-- call took beyond the need as a slice (only when slices were wanted and the request admitted). Every counter is
-- checked before the first write: only if every one has room is every need taken, and only then slices, each at most
-- the wanted one and the share of the room the need leaves, so a counter never passes its maximum.

local now = store_time(ARGV[1])
if outside(now, ARGV[2], ARGV[3]) then
  return {-2, now}
end
local n = #KEYS - 4
-- one read for the epoch, the due time and every counter
local values = call('MGET', unpack(KEYS, 1, n + 2))
local epoch = values[1]
if not epoch then
  return {-1, now}
end
local leases, due = KEYS[n + 3], values[2]
local given_back = nil
if due and now >= tonumber(due) then
  given_back = expire_leases(leases, KEYS[2], now)
  values = call('MGET', unpack(KEYS, 1, n + 2))
end
local admitted = true
local first = 9 + 2 * tonumber(ARGV[8])
local p = first + 1
for i = 3, n + 2 do
  if above(values[i], ARGV[p]) then
    admitted = false
    break
  end
  p = p + 2
end
local slices = nil
local wants = first + 2 * n
if admitted and ARGV[wants] then
  -- a slice is room beyond the need: the threshold minus the value, shared out; exact while both fit a double
  slices = {}
  local share = tonumber(ARGV[wants])
  p = first + 1
  for i = 1, n do
    local want, used, threshold = tonumber(ARGV[wants + i]), values[i + 2] or '0', ARGV[p]
    local slice = 0
    if want > 0 and #used <= 15 and #threshold <= 15 and tonumber(ARGV[p - 1]) > 0 then
      slice = math.min(want, math.floor((tonumber(threshold) - tonumber(used)) * share))
      if slice < 0 then
        slice = 0
      end
    end
    slices[i] = slice
    p = p + 2
  end
end
if admitted then
  p = first
  local i, run = 3, 9
  while i <= n + 2 do
    local expiry = ARGV[run + 1]
    for _ = 1, tonumber(ARGV[run]) do
      local need = ARGV[p]
      if slices and slices[i - 2] > 0 then
        need = format('%d', tonumber(need) + slices[i - 2])
      end
      if need ~= '0' then
        if values[i] then
          call('INCRBY', KEYS[i], need)
        else
          create(KEYS[i], need, expiry, now)
        end
      end
      i, p = i + 1, p + 2
    end
    run = run + 2
  end
  if ARGV[4] ~= '' then
    local expiry = now + tonumber(ARGV[5])
    call('ZADD', leases, expiry, ARGV[4])
    if not due then
      call('SET', KEYS[2], format('%d', expiry))
    end
    if ARGV[6] ~= '' then
      call('SET', KEYS[n + 4], ARGV[6], 'PX', ARGV[7])
    end
  end
end
-- the reply is the values read, the due time's place taken by the outcome: {epoch, admitted, used_1 .. used_n, now,
-- keys given back ..}, a counter that does not exist as false (nil)
values[2] = admitted and 1 or 0
values[n + 3] = now
if slices then
  for i = 1, n do
    values[n + 3 + i] = slices[i]
  end
end
if given_back then
  for _, key in ipairs(given_back) do
    values[#values + 1] = key
  end
end
return values
