-- Check-and-reserve for one slot group of a request, atomically (after prelude.lua).
--
-- KEYS[1]    data epoch; when it is missing the data was lost, nothing changes and the reply is {-1, now}
-- KEYS[2]    lease set
-- KEYS[3]    lease due time
-- KEYS[4]    the lease plan of the holds (any key of the tag when nothing is held)
-- KEYS[5..]  counter keys of the windows the caller expects at the store time it guessed
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2..3] lo, hi: the store time must lie in [lo, hi) (hi '' for none), where every expected window holds it;
--            else nothing changes and the reply is {-2, now}, for the caller to try again with the windows of now
-- ARGV[4]    the lease entry to hold the holds under, or '' when nothing is held
-- ARGV[5]    lease duration in ms
-- ARGV[6]    the lease plan's text to write (the keys of the held counters), or '' when it was written lately
-- ARGV[7]    how long the lease plan lives from now, in ms
-- then per counter: need (amount and hold together), threshold (the highest value that still leaves room for the
-- need, '-1' when nothing does), and when a counter the call creates expires in store time ms ('' for never)
--
-- Reply: {admitted (1 or 0), now, epoch, used_1 .. used_n, keys given back by expired leases ..}, used_i the value
-- before the call as text. Every counter is checked before the first write: only if every one has room is every need
-- taken.

local now = store_time(ARGV[1])
if outside(now, ARGV[2], ARGV[3]) then
  return {-2, now}
end
local values = call('MGET', unpack(KEYS))
local epoch = values[1]
if not epoch then
  return {-1, now}
end
local given_back = nil
if values[3] and now >= tonumber(values[3]) then
  given_back = expire_leases(KEYS[2], KEYS[3], now)
  values = call('MGET', unpack(KEYS))
end
local n = #KEYS - 4
local reply = {1, now, epoch}
local admitted = true
local p = 8
for i = 1, n do
  local used = values[i + 4]
  reply[i + 3] = used or '0'
  if admitted and above(used, ARGV[p + 1]) then
    admitted = false
  end
  p = p + 3
end
if admitted then
  p = 8
  for i = 1, n do
    local need = ARGV[p]
    if need ~= '0' then
      local key = KEYS[i + 4]
      if values[i + 4] then
        call('INCRBY', key, need)
      else
        create(key, need, ARGV[p + 2], now)
      end
    end
    p = p + 3
  end
  if ARGV[4] ~= '' then
    local expiry = now + tonumber(ARGV[5])
    call('ZADD', KEYS[2], expiry, ARGV[4])
    if not values[3] then
      call('SET', KEYS[3], format('%d', expiry))
    end
    if ARGV[6] ~= '' then
      call('SET', KEYS[4], ARGV[6], 'PX', ARGV[7])
    end
  end
else
  reply[1] = 0
end
if given_back then
  for _, key in ipairs(given_back) do
    reply[#reply + 1] = key
  end
end
return reply
