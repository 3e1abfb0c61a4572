-- Several charges of one tag in one atomic call (after prelude.lua and charging.lua), each applied, or not, as
-- charge.lua would apply it alone, and answered as it would be.
--
-- Runs come first: plain charges (nothing to settle, no details asked) of the same windows, each idempotency key once,
-- merged. A run is applied whole, each counter written once with the run's sum and each charge's idempotency key
-- set, or not at all: a charge of the run seen before is answered as a duplicate and the others {-4}, to be sent
-- again; a sum that would overflow a counter answers every charge {-4}. The other charges follow, one by one, in
-- order; one that fails (an overflow) changes nothing and leaves the others as they are.
--
-- KEYS[1..3]  the tag's data epoch, lease set and lease due time
-- then per run its m counter keys, then the idempotency keys of its c charges; then per other charge its keys, as
-- charge.lua takes them
-- ARGV[1]     the number of runs
-- ARGV[2]     the number of other charges
-- ARGV[3]     idempotency key lifetime in ms
-- then per run: test time source ('' for Redis TIME), lo, hi (see charge.lua), m, c, the m sums to add, the m
-- expiries of the counters the run may create (store time ms, '' for never), and the c values of its idempotency
-- keys; then per other charge: its number of keys and of arguments, and its arguments as charge.lua takes them
--
-- Reply: one reply per charge, the runs' charges first, as charge.lua's, or {-3, message} for a charge that failed,
-- or {-4} for a charge of a run that was not applied (nothing of it was written). The keys given back by expired
-- leases come with the run's first reply. Redis TIME is read once for the whole call.

local runs, others, lifetime = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local replies = {}
local redis_now = nil

local function time_of(override)
  if override ~= '' then
    return tonumber(override)
  end
  redis_now = redis_now or store_time('')
  return redis_now
end

-- Sets the idempotency key of every charge of a run, each only if absent. On one seen before, deletes those it set
-- and returns that charge's position and the value its key holds.
local function claim(ids, values_at)
  for i, id in ipairs(ids) do
    if not call('SET', id, ARGV[values_at + i - 1], 'NX', 'PX', lifetime) then
      for j = 1, i - 1 do
        call('DEL', ids[j])
      end
      return i, call('GET', id)
    end
  end
  return nil
end

-- Adds the run's sums, creating the counters that do not exist; on a sum that would overflow takes back what it
-- added and returns false. values: the counters' values read before any write, or nil to learn from INCRBY whether a
-- counter is new (a new one ends at exactly its sum). Giving back expired leases after the read only lowers a counter
-- and never removes one, so the overflow check and the test for a new counter still hold.
local function add_sums(counters, values, sums_at, now)
  local m = #counters
  for k, key in ipairs(counters) do
    local sum = ARGV[sums_at + k - 1]
    local expiry = ARGV[sums_at + m + k - 1]
    if sum ~= '0' then
      if values and not values[k] then
        create(key, sum, expiry, now)
      elseif values then
        call('INCRBY', key, sum)
      else
        local added = redis.pcall('INCRBY', key, sum)
        if type(added) == 'table' and added.err then
          for j = 1, k - 1 do
            local earlier = ARGV[sums_at + j - 1]
            if earlier ~= '0' then
              call('DECRBY', counters[j], earlier)
            end
          end
          return false
        end
        if expiry ~= '' and format('%d', added) == sum then
          -- new, or at 0 before: its window's expiry either way
          local left = tonumber(expiry) - now
          call('PEXPIRE', key, format('%d', left > 0 and left or 1))
        end
      end
    end
  end
  return true
end

-- Whether a sum has more digits than a double holds exactly.
local function long_sums(sums_at, m)
  for k = 0, m - 1 do
    if #ARGV[sums_at + k] > 15 then
      return true
    end
  end
  return false
end

local function run(key_at, arg_at)
  local now = time_of(ARGV[arg_at])
  local m, c = tonumber(ARGV[arg_at + 3]), tonumber(ARGV[arg_at + 4])
  local sums_at, values_at = arg_at + 5, arg_at + 5 + 2 * m
  local counters = {unpack(KEYS, key_at, key_at + m - 1)}
  local ids = {unpack(KEYS, key_at + m, key_at + m + c - 1)}
  local first = #replies + 1
  local function answer_all(reply)
    for i = 0, c - 1 do
      replies[first + i] = reply
    end
  end
  if outside(now, ARGV[arg_at + 1], ARGV[arg_at + 2]) then
    answer_all({-2, now})
    return
  end
  local head = call('MGET', KEYS[1], KEYS[3])
  local epoch, due = head[1], head[2]
  if not epoch then
    answer_all({-1, now})
    return
  end
  -- Due leases are given back first, as charge.lua does, so the counters are read and checked before anything is
  -- written; so are sums too long to be told from INCRBY's reply, a double. Otherwise INCRBY itself tells of an
  -- overflow, and what was added is taken back.
  local lease_due = due and now >= tonumber(due)
  local values, given_back = nil, nil
  if lease_due or long_sums(sums_at, m) then
    values = m > 0 and call('MGET', unpack(counters)) or {}
    for k = 1, m do
      local sum = ARGV[sums_at + k - 1]
      if values[k] and sum ~= '0' and overflows(values[k], sum) then
        answer_all({-4})
        return
      end
    end
  end
  local seen, value = claim(ids, values_at)
  if seen then
    answer_all({-4})
    replies[first + seen - 1] = {0, now, epoch, value}
    return
  end
  if lease_due then
    given_back = expire_leases(KEYS[2], KEYS[3], now)
  end
  if not add_sums(counters, values, sums_at, now) then
    for _, id in ipairs(ids) do
      call('DEL', id)
    end
    answer_all({-4})
    return
  end
  for i = 1, c do
    replies[first + i - 1] = {1, now, epoch, 0, ''}
  end
  for _, key in ipairs(given_back or {}) do
    table.insert(replies[first], key)
  end
end

local key_at, arg_at = 4, 4
for _ = 1, runs do
  local m, c = tonumber(ARGV[arg_at + 3]), tonumber(ARGV[arg_at + 4])
  run(key_at, arg_at)
  key_at, arg_at = key_at + m + c, arg_at + 5 + 2 * m + c
end
for _ = 1, others do
  local key_count, arg_count = tonumber(ARGV[arg_at]), tonumber(ARGV[arg_at + 1])
  local keys = {unpack(KEYS, key_at, key_at + key_count - 1)}
  local argv = {unpack(ARGV, arg_at + 2, arg_at + 1 + arg_count)}
  key_at, arg_at = key_at + key_count, arg_at + 2 + arg_count
  local reply = charge(keys, argv, time_of(argv[1]))
  if reply.err then
    reply = {-3, reply.err}
  end
  replies[#replies + 1] = reply
end
return replies
