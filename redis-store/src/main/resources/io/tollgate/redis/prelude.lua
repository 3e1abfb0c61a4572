-- Loaded by the store in front of every other script of this folder.
--
-- Shared key positions: KEYS[1] data-loss marker, KEYS[2] change log (sorted set: member counter key, score change
-- sequence number), KEYS[3] change sequence, KEYS[4] last mark handed to a change log reader.
--
-- Counters are 64-bit integers, exact up to 2^63 - 1 like Redis INCRBY itself. Lua numbers are doubles, exact only
-- up to 2^53, so counter values travel as decimal text: they are passed to INCRBY/DECRBY/SET as text, returned as
-- text, and compared with fits/compare_sum below. Times and window starts are plain numbers (well below 2^53);
-- numbers passed to redis.call are formatted with %.17g, which is exact and without exponent below 1e17.

local LONG_MAX = '9223372036854775807'
-- globals are table lookups: the hot ones once, as locals
local call, tonumber, format, sub, fmod = redis.call, tonumber, string.format, string.sub, math.fmod

local function clock_error(group, now, range)
  return redis.error_reply('TOLLGATE_CLOCK store time ' .. format('%d', now) .. ' is outside the candidate '
      .. 'windows ' .. range .. ' of window layout ' .. group .. ': the replica clock is off by more than two windows')
end

-- The store's clock: Redis TIME in milliseconds, or the test time source passed as text.
local function store_time(override)
  if override ~= '' then
    return tonumber(override)
  end
  local t = call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A decimal text of up to 19 digits as two exact numbers: the digits above the last nine, and the last nine.
local function halves(text)
  local n = #text
  if n <= 9 then
    return 0, tonumber(text)
  end
  return tonumber(sub(text, 1, n - 9)), tonumber(sub(text, n - 8))
end

-- Compares a + b with c, all non-negative integers up to 2^63 - 1 in canonical decimal text: -1, 0 or 1.
-- Numbers of up to 15 digits add exactly as doubles; longer ones are added in two exact halves.
local function compare_sum(a, b, c)
  local la, lb, lc = #a, #b, #c
  if la < 16 and lb < 16 then
    if lc > 16 then
      return -1
    elseif lc < 16 then
      local sum, other = tonumber(a) + tonumber(b), tonumber(c)
      if sum < other then
        return -1
      elseif sum > other then
        return 1
      end
      return 0
    end
  end
  local ah, al = halves(a)
  local bh, bl = halves(b)
  local ch, cl = halves(c)
  local high, low = ah + bh, al + bl
  if low >= 1000000000 then
    high, low = high + 1, low - 1000000000
  end
  if high ~= ch then
    if high < ch then
      return -1
    end
    return 1
  end
  if low < cl then
    return -1
  elseif low > cl then
    return 1
  end
  return 0
end

-- Whether a counter at `used` can take `amount` more under `max` (all text): used < max and amount <= max - used.
local function fits(used, amount, max)
  if #used < 16 and #amount < 16 and #max < 16 then
    local u, m = tonumber(used), tonumber(max)
    return u < m and tonumber(amount) <= m - u
  end
  return compare_sum(used, '0', max) < 0 and compare_sum(used, amount, max) <= 0
end

-- The window holding `now`, from the window arguments at ARGV[p] (see LimitPlan):
--   f anchor length guess    fixed-length rolling windows
--   u                        unbounded: starts at 0, never ends
--   c n b1 .. bn guess       candidate boundaries sent by Java for calendar and month-based layouts
-- `guess` is the start of the window the replica's clock expects, whose key Java sent.
-- Returns start, end (nil when the window never ends), the index of the next argument and the guess. A start of nil
-- means no candidate holds `now`; the second value then describes the candidates, for the error message.
local function window(now, p)
  local kind = ARGV[p]
  if kind == 'f' then
    local anchor = tonumber(ARGV[p + 1])
    local length = tonumber(ARGV[p + 2])
    -- fmod of exact operands is exact, unlike a floor of a quotient
    local into = fmod(now - anchor, length)
    if into < 0 then
      into = into + length
    end
    local start = now - into
    return start, start + length, p + 4, ARGV[p + 3]
  elseif kind == 'u' then
    return 0, nil, p + 1, nil
  end
  local n = tonumber(ARGV[p + 1])
  local guess = ARGV[p + 2 + n]
  for i = p + 2, p + n do
    local s = tonumber(ARGV[i])
    local e = tonumber(ARGV[i + 1])
    if now >= s and now < e then
      if e >= 9007199254740992 then
        e = nil
      end
      return s, e, p + 3 + n, guess
    end
  end
  return nil, '[' .. ARGV[p + 2] .. ', ' .. ARGV[p + 1 + n] .. ')', p + 3 + n, guess
end

-- Every window group from ARGV[p]: their count, then each group's window arguments (see window()). The ops of a
-- request mostly share a few layouts, so each is sent and computed once. Returns the starts, the ends (false when
-- the window never ends), the guesses and the index of the next argument; or nil and an error reply.
local function windows(now, p)
  local count = tonumber(ARGV[p])
  local starts, ends, guesses = {}, {}, {}
  p = p + 1
  for g = 1, count do
    local s, e, guess
    s, e, p, guess = window(now, p)
    if s == nil then
      return nil, clock_error(g, now, e)
    end
    starts[g], ends[g], guesses[g] = s, e or false, guess or false
  end
  return starts, ends, guesses, p
end

-- The key of the window starting at `start`, from the key Java sent for the window it expected (`guess`): the same
-- key when the replica's clock agrees with Redis, else the same base with the right start.
local function window_key(key, start, guess)
  if not guess or tonumber(guess) == start then
    return key
  end
  return sub(key, 1, #key - #guess) .. format('%d', start)
end

-- A sent key without its window start, ending in ':'.
local function key_base(key, guess)
  return sub(key, 1, #key - #(guess or '0'))
end

-- Milliseconds that a counter of a window ending at `e` lives on from `now`, as text.
local function ttl(e, now, retention)
  local left = e + retention - now
  if left < 1 then
    left = 1
  end
  return format('%d', left)
end

-- Adds `amount` (text) to a counter; a counter that did not exist yet expires `retention` after its window ends (a
-- window that never ends: never).
local function add_to_counter(key, amount, existed, window_end, now, retention)
  call('INCRBY', key, amount)
  if not existed and window_end then
    call('PEXPIRE', key, ttl(window_end, now, retention))
  end
end

-- Records changed counter keys in the change log with a new sequence number, except those already recorded after
-- `mark`, the last mark handed to a reader (text, or false for none): no reader has passed them yet, and readers
-- report current values, so their entry already covers this change. Busy counters so cost one ZMSCORE.
local function log_changes(changed, mark)
  if #changed == 0 then
    return
  end
  local scores = call('ZMSCORE', KEYS[2], unpack(changed))
  local last = tonumber(mark or '0')
  local entries, seq = {}, nil
  for i = 1, #changed do
    local score = scores[i]
    if not score or tonumber(score) <= last then
      seq = seq or call('INCR', KEYS[3])
      entries[#entries + 1] = seq
      entries[#entries + 1] = changed[i]
    end
  end
  if seq then
    call('ZADD', KEYS[2], unpack(entries))
  end
end
