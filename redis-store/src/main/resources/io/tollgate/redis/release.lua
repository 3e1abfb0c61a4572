-- Gives back what an earlier call of this tag took (after prelude.lua): the release of a reservation that another
-- tag of the same request refused, or the undo of a charge that another tag of the same request could not apply.
--
-- KEYS[1..4] marker, change log, change sequence, last mark (see prelude.lua)
-- KEYS[5]    the idempotency key of the charge to undo, or any key of the tag when ARGV[2] is ''
-- KEYS[6..]  counter keys, window start included
-- ARGV[1]    the marker value the earlier call saw: when the marker holds another value (or none), the data that call
--            changed is gone (lost and perhaps restored), so nothing changes and the reply is {0}
-- ARGV[2]    the idempotency key's value written by the charge to undo; the key is deleted only if it still holds it
--            ('' when undoing a reservation)
-- then per counter: 'd' to take away (never below zero) or 'i' to add back, and the amount
--
-- Only existing counter keys change (a window that is gone stays gone); their expiry is kept. Reply: {1} when done.

if call('GET', KEYS[1]) ~= ARGV[1] then
  return {0}
end
if ARGV[2] ~= '' then
  if call('GET', KEYS[5]) ~= ARGV[2] then
    -- not the charge this call applied (expired, or another): nothing of it to undo
    return {0}
  end
  call('DEL', KEYS[5])
end
local changed = {}
for i = 6, #KEYS do
  local key = KEYS[i]
  local direction, amount = ARGV[2 * i - 9], ARGV[2 * i - 8]
  local held = call('GET', key)
  if held and amount ~= '0' then
    if direction == 'i' then
      if compare_sum(held, amount, LONG_MAX) <= 0 then
        call('INCRBY', key, amount)
      else
        call('SET', key, LONG_MAX, 'KEEPTTL')
      end
    elseif compare_sum(held, '0', amount) > 0 then
      call('DECRBY', key, amount)
    else
      call('SET', key, '0', 'KEEPTTL')
    end
    changed[#changed + 1] = key
  end
end
log_changes(changed, call('GET', KEYS[4]))
return {1}
