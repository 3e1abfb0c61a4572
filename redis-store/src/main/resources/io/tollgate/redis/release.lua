-- Undoes what an earlier call of this slot group took (after prelude.lua): the reservation of a request that another
-- group refused, or the charge of a request that another group could not apply.
--
-- KEYS[1]    data epoch
-- KEYS[2]    lease set
-- KEYS[3]    lease due time
-- KEYS[4]    the idempotency key of the charge to undo, or any key of the tag when ARGV[2] is ''
-- KEYS[5..]  counter keys, window start included
-- ARGV[1]    the epoch the earlier call saw: when the tag holds another one (or none), the data that call changed is
--            gone (lost and perhaps restored), so nothing changes and the reply is {0}
-- ARGV[2]    the idempotency key's value written by the charge to undo; the key is deleted only if it still holds
--            it ('' when undoing a reservation)
-- ARGV[3]    a lease entry the earlier call added, to remove ('' for none)
-- ARGV[4]    a lease entry the earlier call settled, to put back ('' for none), and ARGV[5] its expiry in ms
-- then per counter: 'd' to take away (never below zero) or 'i' to add back, and the amount
--
-- Only existing counter keys change (a window that is gone stays gone); their expiry is kept. Reply: {1} when done.

if call('GET', KEYS[1]) ~= ARGV[1] then
  return {0}
end
if ARGV[2] ~= '' then
  if call('GET', KEYS[4]) ~= ARGV[2] then
    -- not the charge this call applied (expired, or another): nothing of it to undo
    return {0}
  end
  call('DEL', KEYS[4])
end
if ARGV[3] ~= '' then
  call('ZREM', KEYS[2], ARGV[3])
end
if ARGV[4] ~= '' then
  call('ZADD', KEYS[2], ARGV[5], ARGV[4])
  local due = call('GET', KEYS[3])
  if not due or tonumber(due) > tonumber(ARGV[5]) then
    call('SET', KEYS[3], ARGV[5])
  end
end
local p = 6
for i = 5, #KEYS do
  local key, direction, amount = KEYS[i], ARGV[p], ARGV[p + 1]
  if amount ~= '0' then
    if direction == 'i' then
      local held = call('GET', key)
      if held then
        if overflows(held, amount) then
          call('SET', key, LONG_MAX, 'KEEPTTL')
        else
          call('INCRBY', key, amount)
        end
      end
    else
      take_back(key, amount)
    end
  end
  p = p + 2
end
return {1}
