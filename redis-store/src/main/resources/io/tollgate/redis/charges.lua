-- Several charges of one tag in one atomic call (after prelude.lua and charging.lua): each is applied, or not, as
-- charge.lua would apply it alone, and answers as it would; one that fails (an overflow) changes nothing and leaves
-- the others as they are.
--
-- ARGV[1]            the number of charges n
-- ARGV[2 .. 2n + 1]  per charge, the number of its keys and of its arguments
-- then each charge's arguments in order; KEYS holds each charge's keys in order.
--
-- Plain charges (no lease to settle, no details asked, amounts below 10^12, no lease due) are merged: their amounts
-- are summed per counter and each counter is written once, after one read of every counter they touch; a sum that
-- would overflow sends each of them through charge() alone, as nothing of theirs was written yet. Any other charge
-- runs alone, after the merged ones before it were written, so it sees every counter as it would in sequence.
--
-- Reply: one reply per charge, as charge.lua's, or {-3, message} for a charge that failed. Redis TIME is read once
-- for the whole call.

local n = tonumber(ARGV[1])
local replies = {}
local redis_now = nil
-- the merged charges not written yet: their keys, arguments and time; per counter key, the sum, expiry and time
local pending = {}
local sums, expiries, times, touched = {}, {}, {}, {}
-- idempotency keys of pending charges, with the value each stores
local claimed = {}

local function alone(c, keys, argv, now)
  local reply = charge(keys, argv, now)
  if reply.err then
    reply = {-3, reply.err}
  end
  replies[c] = reply
end

local function write_pending()
  if #pending == 0 then
    return
  end
  local values = call('MGET', unpack(touched))
  local overflow = false
  for k, key in ipairs(touched) do
    if values[k] and overflows(values[k], format('%d', sums[key])) then
      overflow = true
      break
    end
  end
  if overflow then
    for _, p in ipairs(pending) do
      alone(p.c, p.keys, p.argv, p.now)
    end
  else
    for k, key in ipairs(touched) do
      local sum = format('%d', sums[key])
      if values[k] then
        call('INCRBY', key, sum)
      else
        create(key, sum, expiries[key], times[key])
      end
    end
    for _, p in ipairs(pending) do
      call('SET', p.keys[4], p.argv[5], 'PX', p.argv[4])
      replies[p.c] = {1, p.now, p.epoch, 0, ''}
    end
  end
  pending, sums, expiries, times, touched, claimed = {}, {}, {}, {}, {}, {}
end

-- whether a charge can be merged: nothing to settle or report, every amount small enough to sum exactly
local function plain(keys, argv)
  if argv[6] ~= '' or argv[7] == '1' then
    return false
  end
  local p = 8
  for _ = 5, #keys do
    if #argv[p] > 12 then
      return false
    end
    p = p + 3
  end
  return true
end

local next_key, next_arg = 1, 2 * n + 2
for c = 1, n do
  local key_count, arg_count = tonumber(ARGV[2 * c]), tonumber(ARGV[2 * c + 1])
  local keys, argv = {}, {}
  for i = 1, key_count do
    keys[i] = KEYS[next_key + i - 1]
  end
  for i = 1, arg_count do
    argv[i] = ARGV[next_arg + i - 1]
  end
  next_key, next_arg = next_key + key_count, next_arg + arg_count
  local now
  if argv[1] ~= '' then
    now = tonumber(argv[1])
  else
    redis_now = redis_now or store_time('')
    now = redis_now
  end
  local merged = false
  if plain(keys, argv) then
    if outside(now, argv[2], argv[3]) then
      replies[c], merged = {-2, now}, true
    else
      local head = call('MGET', keys[1], keys[3], keys[4])
      local epoch, due, done = head[1], head[2], head[3] or claimed[keys[4]]
      if not epoch then
        replies[c], merged = {-1, now}, true
      elseif done then
        replies[c], merged = {0, now, epoch, done}, true
      elseif not (due and now >= tonumber(due)) then
        local p = 8
        for i = 5, #keys do
          local key, add = keys[i], argv[p]
          if add ~= '0' then
            if not sums[key] then
              sums[key], expiries[key], times[key] = 0, argv[p + 2], now
              touched[#touched + 1] = key
            end
            sums[key] = sums[key] + tonumber(add)
          end
          p = p + 3
        end
        claimed[keys[4]] = argv[5]
        pending[#pending + 1] = {c = c, keys = keys, argv = argv, now = now, epoch = epoch}
        merged = true
      end
    end
  end
  if not merged then
    write_pending()
    alone(c, keys, argv, now)
  end
end
write_pending()
return replies
