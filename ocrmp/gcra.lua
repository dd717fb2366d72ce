-- GCRA (generic cell rate algorithm) for one environment, in one round trip.
--
-- KEYS[1]  the environment's key; holds its theoretical arrival time (TAT) in microseconds
-- ARGV[1]  emission interval in microseconds (time one unit of the rate "costs")
-- ARGV[2]  burst: units that may pass at once when the bucket is full
-- ARGV[3]  cost of this request in units
-- ARGV[4]  optional "now" in microseconds, for tests only; Redis TIME otherwise, so the
--          clocks of the hosts sharing this Redis never matter
--
-- Returns {allowed (0|1), retry_after_us, remaining_burst}.
--
-- A request costlier than the burst is let through once the bucket is full and its whole
-- cost is charged (the TAT moves past now), so large documents pass and the long-run rate
-- still holds.

local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])

local now
if ARGV[4] and ARGV[4] ~= '' then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end

local need = math.min(cost, burst)
local allow_at = tat - (burst - need) * interval
if now < allow_at then
  return {0, allow_at - now, 0}
end

local new_tat = tat + cost * interval
-- The key matters only while the TAT is in the future: afterwards an absent key means
-- the same thing, so it expires exactly then and nothing is left behind.
local ttl_ms = math.max(1, math.ceil((new_tat - now) / 1000))
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl_ms)
local remaining = math.floor((now - (new_tat - burst * interval)) / interval)
return {1, 0, math.max(0, remaining)}
