-- Several charges of one tag in one atomic call (after prelude.lua and charging.lua): each is applied, or not, as
-- charge.lua would apply it alone, and answers as it would; one that fails (an overflow) changes nothing and leaves
-- the others as they are.
--
-- ARGV[1]            the number of charges n
-- ARGV[2 .. 2n + 1]  per charge, the number of its keys and of its arguments
-- then each charge's arguments in order; KEYS holds each charge's keys in order.
--
-- Reply: one reply per charge, as charge.lua's, or {-3, message} for a charge that failed. Redis TIME is read once
-- for the whole call.

local n = tonumber(ARGV[1])
local replies = {}
local next_key, next_arg = 1, 2 * n + 2
local redis_now = nil
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
  local reply = charge(keys, argv, now)
  if reply.err then
    reply = {-3, reply.err}
  end
  replies[c] = reply
end
return replies
