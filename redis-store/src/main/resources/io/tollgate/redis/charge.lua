-- A charge for one slot group of a request, atomically and at most once per idempotency key (after prelude.lua).
--
-- KEYS[1]    data epoch; when it is missing nothing changes and the reply is {-1, now}
-- KEYS[2]    lease set
-- KEYS[3]    lease due time
-- KEYS[4]    idempotency key; when it is present nothing changes and the reply is {0, now, epoch, its value}
-- KEYS[5..]  counter keys: the windows the caller expects at the store time it guessed, and the windows a settled
--            lease took its holds from
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2..3] lo, hi: the store time must lie in [lo, hi) (see reserve.lua), else the reply is {-2, now}
-- ARGV[4]    idempotency key lifetime in ms
-- ARGV[5]    value stored under the idempotency key (what the charge was, so that a re-sent one can be told apart)
-- ARGV[6]    the lease entry this charge settles, or ''; its holds are given back only if it is still in the set
-- ARGV[7]    '1' to have the reply say what was given back per counter (to undo the charge), else ''
-- then per counter: amount to add, amount to give back if the lease is settled here, and when a counter the call
-- creates expires in store time ms ('' for never)
--
-- Reply: {1, now, epoch, settled (1 or 0), the settled lease's expiry (when asked, else ''), [given back per counter,
-- when asked], keys given back by expired leases ..}. Every check comes before the first write, so an error leaves
-- everything as it was.

local now = store_time(ARGV[1])
if outside(now, ARGV[2], ARGV[3]) then
  return {-2, now}
end
local values = call('MGET', unpack(KEYS))
local epoch = values[1]
if not epoch then
  return {-1, now}
end
if values[4] then
  return {0, now, epoch, values[4]}
end
local n = #KEYS - 4
local p = 8
for i = 1, n do
  local used = values[i + 4]
  if used and overflows(used, ARGV[p]) then
    return redis.error_reply('TOLLGATE_OVERFLOW overflow: ' .. KEYS[i + 4] .. ' at ' .. used .. ' cannot take '
        .. ARGV[p] .. ' more: a counter holds at most 2^63 - 1')
  end
  p = p + 3
end
local given_back = nil
if values[3] and now >= tonumber(values[3]) then
  given_back = expire_leases(KEYS[2], KEYS[3], now)
  values = call('MGET', unpack(KEYS))
end
call('SET', KEYS[4], ARGV[5], 'PX', ARGV[4])
local details = ARGV[7] == '1'
local settled, settled_expiry = 0, ''
if ARGV[6] ~= '' then
  if details then
    settled_expiry = call('ZSCORE', KEYS[2], ARGV[6]) or ''
  end
  settled = call('ZREM', KEYS[2], ARGV[6])
end
local reply = {1, now, epoch, settled, settled_expiry}
p = 8
for i = 1, n do
  local key, add, release = KEYS[i + 4], ARGV[p], ARGV[p + 1]
  local used = values[i + 4]
  local returned = '0'
  if used then
    if settled == 1 and release ~= '0' then
      returned = compare(used, release) < 0 and used or release
      if #add < 16 and #returned < 16 then
        call('INCRBY', key, format('%d', tonumber(add) - tonumber(returned)))
      else
        call('INCRBY', key, add)
        call('DECRBY', key, returned)
      end
    elseif add ~= '0' then
      call('INCRBY', key, add)
    end
  elseif add ~= '0' then
    create(key, add, ARGV[p + 2], now)
  end
  if details then
    reply[5 + i] = returned
  end
  p = p + 3
end
if given_back then
  for _, key in ipairs(given_back) do
    reply[#reply + 1] = key
  end
end
return reply
