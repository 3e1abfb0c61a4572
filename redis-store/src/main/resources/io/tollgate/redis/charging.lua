-- One charge for one slot group of a request, atomically and at most once per idempotency key (after prelude.lua):
-- charge.lua runs one, charges.lua several of one tag. keys and argv are laid out as charge.lua describes its KEYS
-- and ARGV; now is the store time, read by the caller (once per call, whatever the number of charges in it).
local function charge(keys, argv, now)
  if outside(now, argv[2], argv[3]) then
    return {-2, now}
  end
  local values = call('MGET', unpack(keys))
  local epoch = values[1]
  if not epoch then
    return {-1, now}
  end
  if values[4] then
    return {0, now, epoch, values[4]}
  end
  local n = #keys - 4
  local p = 8
  for i = 1, n do
    local used = values[i + 4]
    if used and overflows(used, argv[p]) then
      return redis.error_reply('TOLLGATE_OVERFLOW overflow: ' .. keys[i + 4] .. ' at ' .. used .. ' cannot take '
          .. argv[p] .. ' more: a counter holds at most 2^63 - 1')
    end
    p = p + 3
  end
  local given_back = nil
  if values[3] and now >= tonumber(values[3]) then
    given_back = expire_leases(keys[2], keys[3], now)
    values = call('MGET', unpack(keys))
  end
  call('SET', keys[4], argv[5], 'PX', argv[4])
  local details = argv[7] == '1'
  local settled, settled_expiry = 0, ''
  if argv[6] ~= '' then
    if details then
      settled_expiry = call('ZSCORE', keys[2], argv[6]) or ''
    end
    settled = call('ZREM', keys[2], argv[6])
  end
  local reply = {1, now, epoch, settled, settled_expiry}
  p = 8
  for i = 1, n do
    local key, add, release = keys[i + 4], argv[p], argv[p + 1]
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
      create(key, add, argv[p + 2], now)
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
end
