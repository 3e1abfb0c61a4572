-- Redis Cluster only: hands out a change log mark, a number that stands for the sequence number each tag had when
-- the caller read it (after prelude.lua). One number cannot hold a thousand sequence numbers, so they are kept here,
-- under the mark, for as long as the change log remembers changes.
--
-- KEYS[1]    the mark counter; the mark m's sequence numbers are a hash at KEYS[1] .. ':' .. m (same slot)
-- ARGV[1]    test time source in ms, or '' for Redis TIME
-- ARGV[2]    how long the mark is kept, in ms
-- then pairs of tag index and sequence number
--
-- Reply: {mark}. A new counter (first use, or lost with its node) starts at 1,000 per millisecond of store time, above
-- any mark handed out before, so a mark from before a loss never names a newer mark's sequence numbers.

local now = store_time(ARGV[1])
local mark = call('INCR', KEYS[1])
if mark == 1 then
  mark = math.max(now, 1) * 1000
  call('SET', KEYS[1], format('%d', mark))
end
local key = KEYS[1] .. ':' .. format('%d', mark)
local fields = {}
for i = 3, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
if #fields == 0 then
  fields = {'none', '0'}
end
call('HSET', key, unpack(fields))
call('PEXPIRE', key, ARGV[2])
return {mark}
