-- Opens a read of the change log (after prelude.lua): the sequence number up to which the caller reads, handed out
-- as the last mark, and a trim of changes older than the change log retention.
--
-- KEYS[1..4] marker (not read), change log, change sequence, last mark (see prelude.lua)
-- KEYS[5]    sequence numbers by the store time they were handed out (member sequence number, score time), which
--            turn the retention (a time) into a sequence number to trim below
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2]    change log retention in ms
--
-- Reply: {now, sequence}

local now = store_time(ARGV[1])
local seq = redis.call('GET', KEYS[3])
if not seq then
  -- nothing was ever logged here (or the log was lost with the rest): nothing to hand out or trim
  return {now, 0}
end
-- from now on a change must add a new entry for a counter to be seen after this mark (see log_changes)
redis.call('SET', KEYS[4], seq)
-- NX keeps the earliest time a sequence number was seen: "by then, nothing after it had changed"
redis.call('ZADD', KEYS[5], 'NX', now, seq)
local oldest = string.format('%d', now - tonumber(ARGV[2]))
local before = redis.call('ZREVRANGEBYSCORE', KEYS[5], '(' .. oldest, '-inf', 'LIMIT', 0, 1)
if before[1] then
  -- every change up to that sequence number happened before the retention began
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', before[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. oldest)
end
return {now, tonumber(seq)}
