/**
 * The exposure store's Lua scripts. RESERVE runs the domain's check-and-reserve
 * (src/domain/exposure/limits.ts, `reserve`) line for line on the account's state, so that
 * deciding and reserving is one atomic step on Redis; the contract suite runs both stores
 * on the same cases. COMMIT is a compare-and-set of the state (fills, reconciliations,
 * releases are computed in TypeScript and written only if no one wrote in between).
 * The keys of each script share the account's hash tag.
 */

/** KEYS: state. ARGV[1]: JSON {now, ttl, windowMs, maxAgeMs, requireConfirmed, scale, gross, net, maxOpen, maxLoss, maxOrders, maxNotional, approvalWindowMs, marks, orders}. */
export const RESERVE_SCRIPT = `
local req = cjson.decode(ARGV[1])
local raw = redis.call('HGET', KEYS[1], 's')
local st
if raw then st = cjson.decode(raw) else
  st = {accountId = req.accountId, positions = {}, reservations = {}, reconciledAt = cjson.null, lastOpeningAt = cjson.null, reducing = cjson.null, realized = {}, approvals = {}}
end
if st.approvals == nil then st.approvals = {} end
local now = req.now
local EPS = 1e-12
local TOL = 1e-9
local function isnull(x) return x == nil or x == cjson.null end
local function floorStep(q, step) if step > 0 then return math.floor(q / step + TOL) * step end return q end
local function usd(x) return math.floor(x * 100 + 0.5) / 100 end

local keep = {}
for _, r in ipairs(st.reservations) do if r.expiresAt > now then keep[#keep + 1] = r end end
st.reservations = keep
local rk = {}
for _, e in ipairs(st.realized) do if e.at > now - req.windowMs then rk[#rk + 1] = e end end
st.realized = rk

-- Trading limits: approval buckets a tenth of the window wide, counted until their end leaves the window.
local W = req.approvalWindowMs
local BW = math.max(1, math.floor(W / 10))
local function expiresIn(b) return b.at + BW + W - now end
local ak = {}
for _, b in ipairs(st.approvals) do if expiresIn(b) > 0 then ak[#ak + 1] = b end end
st.approvals = ak
local function approvalUse()
  local n, u = 0, 0
  for _, b in ipairs(st.approvals) do if expiresIn(b) > 0 then n = n + b.orders; u = u + b.usd end end
  return n, u
end
local function retryAfter(orderUsd)
  local cap = req.maxNotional
  local need = 0
  if not isnull(cap) then need = math.min(orderUsd, cap) end
  local n, u = approvalUse()
  for _, b in ipairs(st.approvals) do
    local ms = expiresIn(b)
    if ms > 0 then
      n = n - b.orders
      u = u - b.usd
      if n < req.maxOrders and (isnull(cap) or u + need <= cap * (1 + TOL)) then return ms end
    end
  end
  return W + BW
end
local function valuation(o) return math.max(req.marks[o.symbol] or 0, o.price) end

local function riskAdding(o, res)
  if not isnull(st.reducing) then
    table.insert(res.r, {'ACCOUNT_REDUCING', 'REDUCING', usd(st.reducing.lossUsd)})
    return 0
  end
  local prices = {}
  for k, v in pairs(req.marks) do prices[k] = v end
  prices[o.symbol] = math.max(prices[o.symbol] or 0, o.price)
  if not isnull(req.maxLoss) then
    local pnl = 0
    local known = true
    for _, e in ipairs(st.realized) do if e.at > now - req.windowMs then pnl = pnl + e.usd end end
    for sym, p in pairs(st.positions) do
      if math.abs(p.quantity) > EPS then
        local m = prices[sym]
        if m == nil then known = false else pnl = pnl + p.quantity * (m - p.entryPrice) end
      end
    end
    if known and -pnl > req.maxLoss then
      st.reducing = {since = now, lossUsd = -pnl}
      table.insert(res.r, {'ACCOUNT_MAX_LOSS', req.maxLoss, usd(-pnl)})
      return 0
    end
  end
  if #st.reservations >= req.maxOpen then
    table.insert(res.r, {'EXPOSURE_RESERVATIONS_LIMIT', req.maxOpen, #st.reservations})
    return 0
  end
  local apprN, apprU = approvalUse()
  if apprN >= req.maxOrders then
    table.insert(res.r, {'ACCOUNT_ORDER_RATE_LIMIT', req.maxOrders, apprN})
    res.ra = retryAfter(o.quantity * valuation(o))
    return 0
  end
  local lo, hi = {}, {}
  for sym, p in pairs(st.positions) do lo[sym] = p.quantity; hi[sym] = p.quantity end
  for _, r in ipairs(st.reservations) do
    if lo[r.symbol] == nil then lo[r.symbol] = 0; hi[r.symbol] = 0 end
    if r.side == 'buy' then hi[r.symbol] = hi[r.symbol] + r.quantity else lo[r.symbol] = lo[r.symbol] - r.quantity end
  end
  local others, high, low = 0, 0, 0
  for sym, l in pairs(lo) do
    local h = hi[sym]
    if not (math.abs(l) <= EPS and math.abs(h) <= EPS) then
      local p = prices[sym]
      if p == nil then
        table.insert(res.r, {'EXPOSURE_UNCONFIRMED', cjson.null, 'no mark price for ' .. sym})
        return 0
      end
      if sym ~= o.symbol then others = others + math.max(math.abs(l), math.abs(h)) * p end
      high = high + h * p
      low = low + l * p
    end
  end
  local p = prices[o.symbol]
  local ext
  if o.side == 'buy' then ext = hi[o.symbol] or 0 else ext = -(lo[o.symbol] or 0) end
  local q = o.quantity
  local moved = math.abs(ext + q) * p
  local posCap = o.posCap * req.scale
  local grossCap = req.gross * req.scale
  local netCap = req.net * req.scale
  local netMoved, netBase
  if o.side == 'buy' then netMoved = high + q * p; netBase = high else netMoved = -(low - q * p); netBase = -low end
  local checks = {
    {'EXPOSURE_POSITION_LIMIT', posCap / p - ext, posCap, moved},
    {'EXPOSURE_GROSS_LIMIT', (grossCap - others) / p - ext, grossCap, others + moved},
    {'EXPOSURE_NET_LIMIT', (netCap - netBase) / p, netCap, math.abs(netMoved)},
  }
  if not isnull(req.maxNotional) then
    table.insert(checks, {'ACCOUNT_NOTIONAL_RATE_LIMIT', (req.maxNotional - apprU) / p, req.maxNotional, apprU + q * p})
  end
  local approved = q
  for _, c in ipairs(checks) do
    local room = math.max(0, c[2])
    if not (q <= room * (1 + TOL)) then
      approved = math.min(approved, room)
      table.insert(res.r, {c[1], usd(c[3]), usd(c[4])})
      if c[1] == 'ACCOUNT_NOTIONAL_RATE_LIMIT' then res.ra = retryAfter(q * p) end
    end
  end
  if approved >= q then return floorStep(q, o.step) end
  local f = floorStep(approved, o.step)
  if f > EPS then return f end
  return 0
end

local function reduceOnly(o, res)
  local pos = 0
  if st.positions[o.symbol] then pos = st.positions[o.symbol].quantity end
  local closable
  if o.side == 'buy' then closable = math.max(0, -pos) else closable = math.max(0, pos) end
  if closable <= EPS then
    local r = st.reconciledAt
    local confirmed = (not isnull(r)) and (now - r <= req.maxAgeMs) and (isnull(st.lastOpeningAt) or r >= st.lastOpeningAt)
    if confirmed then
      table.insert(res.r, {'REDUCE_ONLY_NO_POSITION', 0, usd(o.quantity * o.price)})
      return 0
    end
    local age = cjson.null
    if not isnull(r) then age = now - r end
    local w = {'REDUCE_ONLY_POSITION_UNCONFIRMED', req.maxAgeMs, age}
    if req.requireConfirmed then
      table.insert(res.r, w)
      return 0
    end
    table.insert(res.w, w)
    return floorStep(o.quantity, o.step)
  end
  local reserved = 0
  for _, x in ipairs(st.reservations) do
    if x.reduceOnly and x.symbol == o.symbol and x.side == o.side then reserved = reserved + x.quantity end
  end
  local free = math.max(0, closable - reserved)
  if o.quantity <= free * (1 + TOL) then return floorStep(o.quantity, o.step) end
  local q = floorStep(free, o.step)
  table.insert(res.r, {'REDUCE_ONLY_CAPPED', usd(free * o.price), usd(o.quantity * o.price)})
  if q > EPS then return q end
  return 0
end

local out = {}
for i, o in ipairs(req.orders) do
  local res = {r = {}, w = {}}
  local approved
  if o.reduceOnly then approved = reduceOnly(o, res) else approved = riskAdding(o, res) end
  res.q = 0
  if approved > 0 then
    res.q = approved
    table.insert(st.reservations, {decisionId = o.decisionId, symbol = o.symbol, side = o.side, reduceOnly = o.reduceOnly, quantity = approved, price = o.price, expiresAt = now + req.ttl})
    if not o.reduceOnly then st.lastOpeningAt = now end
    local at = math.floor(now / BW) * BW
    local last = st.approvals[#st.approvals]
    local u = approved * valuation(o)
    if last and last.at == at then
      last.orders = last.orders + 1
      last.usd = last.usd + u
    else
      table.insert(st.approvals, {at = at, orders = 1, usd = u})
    end
  end
  out[i] = res
end
redis.call('HSET', KEYS[1], 's', cjson.encode(st))
redis.call('HINCRBY', KEYS[1], 'v', 1)
return cjson.encode(out)
`;

/**
 * KEYS: state, fills, fill times. ARGV: expected version, new state JSON, fillId ('' for
 * none), canonical fill, executedAt, oldest fill time kept. A fill already recorded answers
 * duplicate or conflict before the version is looked at; a stale version answers retry.
 */
export const COMMIT_SCRIPT = `
if ARGV[3] ~= '' then
  local prior = redis.call('HGET', KEYS[2], ARGV[3])
  if prior then
    if prior == ARGV[4] then return 'duplicate' end
    return 'conflict'
  end
end
local v = redis.call('HGET', KEYS[1], 'v') or '0'
if v ~= ARGV[1] then return 'retry' end
redis.call('HSET', KEYS[1], 's', ARGV[2], 'v', tonumber(v) + 1)
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3])
  local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[6], 'LIMIT', 0, 1000)
  if #old > 0 then
    redis.call('HDEL', KEYS[2], unpack(old))
    redis.call('ZREM', KEYS[3], unpack(old))
  end
end
return 'ok'
`;
