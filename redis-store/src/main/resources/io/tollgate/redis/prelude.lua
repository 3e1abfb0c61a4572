-- Loaded by the store in front of every other script of this folder: the clock, exact comparisons of counters, and
-- the give-back of expired leases.
--
-- Keys of a tag every script may name (see KeySpace): the data epoch, the lease set (members are lease entries,
-- scores their expiry in store time), the lease due time (the earliest expiry, or earlier) and lease plans.
--
-- Counters are 64-bit integers, exact up to 2^63 - 1 like Redis INCRBY itself. Lua numbers are doubles, exact only up
-- to 2^53, so counter values stay decimal text: they go to INCRBY/DECRBY/SET as text and back as text. Texts of up to
-- 15 digits are compared as numbers; longer ones as text, where two canonical decimals of the same length compare
-- like their digits.

local LONG_MAX = '9223372036854775807'
-- globals are table lookups: the hot ones once, as locals
local call, tonumber, format, sub = redis.call, tonumber, string.format, string.sub

-- The store's clock: Redis TIME in milliseconds, or the test time source passed as text.
local function store_time(override)
  if override ~= '' then
    return tonumber(override)
  end
  local t = call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Whether the store time lies outside [lo, hi), the windows the caller expected ('' for hi: no end).
local function outside(now, lo, hi)
  return now < tonumber(lo) or (hi ~= '' and now >= tonumber(hi))
end

-- Compares two non-negative integers in canonical decimal text: -1, 0 or 1.
local function compare(a, b)
  local la, lb = #a, #b
  if la ~= lb then
    return la < lb and -1 or 1
  end
  if a == b then
    return 0
  end
  return a < b and -1 or 1
end

-- Whether a counter at `used` (text, or false for none) is above `threshold` (text; '-1' when nothing fits).
-- Canonical decimals compare by length first, then, of equal length, like their digits: exact at any length, and no
-- number is parsed.
local function above(used, threshold)
  if not used then
    return threshold == '-1'
  end
  local lu, lt = #used, #threshold
  return lu > lt or (lu == lt and used > threshold) or threshold == '-1'
end

-- A decimal text of up to 19 digits as two exact numbers: the digits above the last nine, and the last nine.
local function halves(text)
  local n = #text
  if n <= 9 then
    return 0, tonumber(text)
  end
  return tonumber(sub(text, 1, n - 9)), tonumber(sub(text, n - 8))
end

-- Whether a + b passes 2^63 - 1, all non-negative integers in canonical decimal text.
local function overflows(a, b)
  if #a < 19 and #b < 19 then
    return false
  end
  local ah, al = halves(a)
  local bh, bl = halves(b)
  local ch, cl = halves(LONG_MAX)
  local high, low = ah + bh, al + bl
  if low >= 1000000000 then
    high, low = high + 1, low - 1000000000
  end
  return high > ch or (high == ch and low > cl)
end

-- Creates the counter at `key` with `value`, expiring at `expiry` in store time ms ('' for never).
local function create(key, value, expiry, now)
  if expiry == '' then
    call('SET', key, value)
  else
    local left = tonumber(expiry) - now
    call('SET', key, value, 'PX', format('%d', left > 0 and left or 1))
  end
end

-- Takes `amount` (text) from the counter at `key`, never below zero; a counter that is gone stays gone.
local function take_back(key, amount)
  local held = call('GET', key)
  if held then
    if compare(held, amount) > 0 then
      call('DECRBY', key, amount)
    else
      call('SET', key, '0', 'KEEPTTL')
    end
  end
end

-- Gives back what every lease expired by `now` holds, at most 100 per call (the due time stays due for the rest),
-- and moves the due time to the next expiry. A lease entry is its name, the id of its plan and its holds, on three
-- lines (holds separated by commas); the plan, a key of its own beside the lease set, lists the counter keys the holds
-- were taken from, one per line. Returns the keys given back to, for the caller's flusher.
local function expire_leases(leases, due, now)
  local expired = call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 100)
  local changed = {}
  local plans = sub(leases, 1, #leases - 6) .. 'lease-plan:'
  for _, entry in ipairs(expired) do
    local _, id, holds = string.match(entry, '^([^\n]*)\n([^\n]*)\n(.*)$')
    local plan = id and call('GET', plans .. id)
    if plan then
      local next_hold = string.gmatch(holds, '[^,]+')
      for key in string.gmatch(plan, '[^\n]+') do
        local hold = next_hold()
        if not hold then
          break
        end
        take_back(key, hold)
        changed[#changed + 1] = key
      end
    end
  end
  if #expired > 0 then
    call('ZREM', leases, unpack(expired))
  end
  local next_due = call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  if next_due[2] then
    call('SET', due, next_due[2])
  else
    call('DEL', due)
  end
  return changed
end
