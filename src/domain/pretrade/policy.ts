import { z } from 'zod';

/**
 * Pre-trade policy: every knob of the rules in evaluate.ts, with documented defaults.
 * `PretradePolicySchema.parse({})` gives the defaults; a policy file may override any
 * subset globally and per symbol (unknown keys are errors). The object is plain JSON
 * (it is hashed into `policyVersion` and shown at GET /policy).
 *
 * Decisions where issue 5 was silent (each is also tested):
 *
 * - Composition. Hard rules (unknown symbol, stale data, trading state, no-trade
 *   buffer, price collar, limit inside a cluster, own liquidation in a cluster, max
 *   notional) reject. Every size rule is a CAP independent of the requested size (one
 *   exception, still monotone: the 'resize' cap for a limit in a non-major zone below); the
 *   approved quantity is min(requested, floor(min cap)). Every cap the request exceeds
 *   contributes its reason (reasons[] may hold several); caps that do not bind become
 *   warnings only where they carry information (proximity, crowding, no order book).
 *   Because caps never depend on the requested size, approval is non-decreasing in the
 *   requested size below `maxNotionalUsd` (property-tested).
 * - Rounding. A capped quantity is rounded DOWN to `quantityStep`, any positive step
 *   (0.001, 0.25, 2.5, 1e-7), and written with the step's own decimals, so it is an exact
 *   multiple of the step and never above the cap beyond float division noise (tolerance:
 *   at most 1e-9 of a step and 1e-12 of the cap). An order that fits
 *   under every cap is approved exactly as requested (not re-rounded). An order between
 *   the rounded cap and the raw cap is resized to the rounded cap (keeps monotonicity).
 * - Minimum size. REJECT `BELOW_MIN_SIZE` when the approved (or requested) quantity is
 *   below `minQuantity` or its notional below `minNotionalUsd`. Not applied to reduce-only.
 * - Max notional. `maxNotionalAction: 'reject'` (default: an order above it is most likely
 *   a fat finger; NautilusTrader and exchanges deny) or `'resize'`. Reduce-only orders are
 *   not capped: a desk does not cap a close; the venue bounds it by the position.
 * - Reduce-only. Never rejected except UNKNOWN_SYMBOL or a malformed order
 *   (INVALID_ORDER, defence in depth behind the route schema); trading state, cluster,
 *   size and crowding rules are skipped. Stale or missing data: APPROVE with warning
 *   `REDUCE_ONLY_STALE_DATA`. A reduce-only market order given as a notional with no
 *   heatmap at all has no price to convert it: approved with quantities 0, notional kept,
 *   and the warning says so.
 * - Freshness. Effective max age = min(service HEATMAP_MAX_AGE_MS, `maxHeatmapAgeMs`).
 *   Age > max is stale (age == max is fresh); so is an asOf more than max in the future
 *   (small clock skew passes). A non-finite or non-positive mark counts as missing data.
 *   The order book is held to the same limits: a book older than the max age, or dated
 *   more than the max age in the future, is "no book".
 * - Invalid heatmap content counts as missing data (HEATMAP_STALE for risk-adding orders,
 *   observed 'invalid data'; reduce-only passes with REDUCE_ONLY_STALE_DATA). Heatmaps come
 *   through JSON, where NaN becomes null, so evaluate checks what its rules read: the
 *   clusters array; every cluster's bounds (finite, positive, low <= high) and side (a
 *   non-major zone decides a passive limit price inside it, so it is checked too); every
 *   MAJOR cluster's notional; the crowding side and strength (finite, >= 0; above 1 counts
 *   as 1). A non-finite model risk score counts as 1 in the risk score, which is always a
 *   finite 0..100.
 * - Trading state. Any value other than exactly ACTIVE / REDUCING / HALTED (e.g. "halted"
 *   written by hand) is HALTED (fail closed); the reason's `observed` shows the raw values.
 * - Usable order book. Fresh (as above), both sides present, every level finite and
 *   positive, bids descending and asks ascending, not crossed (best bid < best ask), and
 *   its mid within `maxBookMarkDeviationBps` (default 100) of the heatmap mark; otherwise
 *   it is "no book" (NO_ORDER_BOOK fallback cap, the reason names the defect). 100 bps:
 *   BTC rarely moves that much within the 60 s freshness window, while a stale, wrong
 *   symbol or broken feed is usually far beyond it. Slippage is never reported negative.
 * - Marketable limits. A limit that reaches the touch (buy limit >= best ask, sell limit
 *   <= best bid; with no usable book, the mark) executes now, through the mark, so it is
 *   treated as a market order: walked (slippage cap) or given the no-book cap; its
 *   cluster distances are the nearer of the mark's and the limit's (so the no-trade
 *   buffer cannot be stepped over with a far limit); its own-liquidation check covers
 *   every entry between the mark and the limit; and USD caps and max notional convert
 *   at the higher of limit and mark (a sell below the mark fills near the mark), so it
 *   never gets more than the same market order. A passive limit is judged at its limit.
 * - Distances. Distance from the reference price (mark for market, limit price for passive
 *   limit orders, the nearer of the two for marketable limits) to the nearest EDGE of a
 *   cluster zone, in bps of the mark, 0 inside the zone.
 *   Computed here from priceLow/priceHigh (we do not rely on the model's own distanceBps).
 *   Cluster rules use MAJOR clusters (non-major zones only for a passive limit price, see
 *   limit in cluster); `clusterSides: 'any'` (default) counts both sides,
 *   `'adverse'` only the side whose cascade moves price against the order (long clusters
 *   for buys, short clusters for sells). `nearestCluster` reports any cluster, major or not.
 * - Buffer boundary. distance <= buffer (+1e-9 bps) is INSIDE and rejected. Buffer =
 *   `noTradeBufferBps` / time-of-day multiplier (so 30 bps at 11:00 UTC, ~49 bps at
 *   21:00 UTC on a weekday).
 * - Limit in cluster (rules 3 and 5; clusters counted by `clusterSides`, reduce-only
 *   exempt). MAJOR clusters are a hard line whatever `limitInClusterAction` says: a new
 *   position whose reference price is within the buffer of a major zone is rejected
 *   NO_TRADE_BUFFER (rule 3: "is rejected"), and a limit price inside a major zone is
 *   rejected with the more specific LIMIT_PRICE_IN_CLUSTER (for a passive limit instead of
 *   NO_TRADE_BUFFER for that zone). NON-major cluster zones are the "caution" of rule 5: a
 *   passive limit price inside one gets `limitInClusterAction`: 'reject' -> REJECT
 *   LIMIT_PRICE_IN_CLUSTER; 'resize' (default) -> a size cap of
 *   `limitInClusterSizeFactor` x requested (reason LIMIT_PRICE_IN_CLUSTER when it binds,
 *   a warning when the factor is 1), combined with the other caps by min. Default
 *   'resize': non-major zones are merely dense runs of the ladder (>= 1.5x the side's mean
 *   bin, up to 10 a side, see docs/model.md) and can sit where ordinary resting orders
 *   go; rejecting every limit in them would turn caution into a ban, while the dangerous
 *   zones (major) already reject. It is the only cap that depends on
 *   the requested size; factor x requested is non-decreasing in the request, so
 *   monotonicity holds. Zone edges count as inside. A marketable limit is judged like a
 *   market order (buffer from the nearer of mark and limit; non-major zones do not apply
 *   to it), plus LIMIT_PRICE_IN_CLUSTER when its limit price lies inside a major zone.
 *   Price collar: |limit - mark| > `priceCollarBps` of the mark rejects (== passes).
 * - Size caps (notional, converted at the reference price; see marketable limits), nested
 *   so each reason names the factor that bit: TIME_OF_DAY = maxNotional x tod; CROWDED_SIDE = that x
 *   crowding factor; CLUSTER_PROXIMITY = that x proximity factor. Proximity factor goes
 *   linearly from `proximityMinFactor` at the buffer edge to 1 at buffer +
 *   `proximityRangeBps`.
 * - Slippage (market and marketable limit orders). Walk the book from mid (slippage = VWAP
 *   vs mid, adverse positive) with every level scaled by depthScale = tod x thinning; thinning goes
 *   linearly from `depthThinningMinFactor` at a major cluster to 1 at
 *   `depthThinningRangeBps`. Cap = exact largest quantity whose VWAP stays within
 *   `maxSlippageBps` (x crowding factor when adding to the crowded side). No usable book:
 *   cap `noBookMaxNotionalUsd` x tod x crowding (NO_ORDER_BOOK: reason if it binds,
 *   warning otherwise). Marketable limits are walked the same way (see above): at least
 *   the market order's cap; passive limits are not walked.
 * - Crowding. Adding to the crowded side (buy when longs crowded, sell when shorts) with
 *   strength >= `crowdingMinStrength`: size cap and slippage budget x (1 -
 *   `crowdedSizePenalty` x strength).
 * - Own liquidation. Isolated-margin estimate: long liq = entry x (1 - 1/L + mmr), short
 *   = entry x (1 + 1/L - mmr), entry = reference price. Under isolated margin it does not
 *   depend on size, so no resize can move it: inside a major zone of the same side it
 *   rejects, and the message names the largest leverage that would clear the zone.
 * - Time of day. 24 UTC-hour multipliers (weekday) x `timeOfDayWeekendFactor` on Sat/Sun
 *   UTC. Default table interpolates (half-cosine) between the published points: 1.0 at
 *   11:00 UTC and 0.61 at 21:00 UTC (Binance BTC depth within 10 bps, Amberdata Jul-Aug
 *   2025). The weekend factor 0.8 is a judgement: weekend volume is ~0.37 of a weekday
 *   (Kaiko 2024) but no depth figure is published, and depth falls less than volume.
 * - Risk score 0..100: 100 when data is missing or stale; otherwise
 *   100 x (0.35 proximity + 0.2 size use + 0.15 slippage use + 0.15 crowding + 0.15 model
 *   risk), each in 0..1. A heuristic for humans and ranking, never used to decide.
 */

/** Weekday liquidity multiplier per UTC hour 0..23 (1 = deepest). */
export const DEFAULT_TIME_OF_DAY_HOURLY_UTC = [
  0.65, 0.68, 0.72, 0.76, 0.81, 0.85, 0.89, 0.93, 0.96, 0.98, 0.99, 1, 0.99, 0.96, 0.92, 0.87, 0.81, 0.74, 0.69,
  0.65, 0.62, 0.61, 0.61, 0.63,
] as const;

const positive = () => z.number().finite().positive();
const fraction01 = () => z.number().finite().min(0).max(1);
const multiplier = () => z.number().finite().gt(0).max(1);

export const PretradePolicySchema = z
  .object({
    /** Per-symbol tightening of the service-wide HEATMAP_MAX_AGE_MS (ms); null = use the service value. */
    maxHeatmapAgeMs: z.number().int().positive().nullable().default(null),
    /** Largest notional (USD) of one order at full liquidity; base of every size cap. */
    maxNotionalUsd: positive().default(1_000_000),
    /** What an order above maxNotionalUsd gets. */
    maxNotionalAction: z.enum(['reject', 'resize']).default('reject'),
    /** Smallest quantity (base units) worth sending. */
    minQuantity: z.number().finite().min(0).default(0.001),
    /** Smallest notional (USD) worth sending (Binance USD-M minimum is 5 USDT on small caps, 100 on BTC). */
    minNotionalUsd: z.number().finite().min(0).default(5),
    /** Quantity step (base units): resized quantities are rounded down to it. */
    quantityStep: positive().default(0.001),
    /** Which major clusters the cluster rules look at. */
    clusterSides: z.enum(['any', 'adverse']).default('any'),
    /** No new position within this distance (bps of mark) of a major cluster, at full liquidity. */
    noTradeBufferBps: z.number().finite().min(0).default(30),
    /** Outside the buffer, size grows back to full over this many bps. */
    proximityRangeBps: positive().default(150),
    /** Size factor just outside the buffer. */
    proximityMinFactor: fraction01().default(0.25),
    /** Slippage budget (bps, VWAP vs mid) for market orders. */
    maxSlippageBps: positive().default(15),
    /** Book depth is thinned as the mark nears a major cluster, over this many bps. */
    depthThinningRangeBps: positive().default(100),
    /** Depth factor with the mark at a major cluster. */
    depthThinningMinFactor: multiplier().default(0.5),
    /** Market orders with no usable order book are capped at this notional (USD) x time of day. */
    noBookMaxNotionalUsd: positive().default(25_000),
    /** A book whose mid is farther than this (bps) from the heatmap mark is not used (stale, wrong symbol or broken feed). */
    maxBookMarkDeviationBps: positive().default(100),
    /** What a passive limit price inside a NON-major cluster zone gets (inside a major zone: always rejected). */
    limitInClusterAction: z.enum(['reject', 'resize']).default('resize'),
    /** With `resize`: fraction of the requested size allowed. */
    limitInClusterSizeFactor: fraction01().default(0.25),
    /** Limit price farther than this from the mark (bps) is rejected as a likely error. */
    priceCollarBps: positive().default(1_000),
    /** Crowding below this strength (0..1) is ignored. */
    crowdingMinStrength: fraction01().default(0.3),
    /** Adding to the crowded side: caps x (1 - penalty x strength). */
    crowdedSizePenalty: fraction01().default(0.5),
    /** Maintenance margin rate for the own-liquidation estimate (0.004 = 0.4%, BTC tier 1). */
    maintenanceMarginRate: z.number().finite().min(0).max(0.5).default(0.004),
    /** Weekday liquidity multipliers per UTC hour 0..23, each in (0, 1]. */
    timeOfDayHourlyUtc: z.array(multiplier()).length(24).default([...DEFAULT_TIME_OF_DAY_HOURLY_UTC]),
    /** Extra multiplier on Saturday and Sunday (UTC). A judgement: see above. */
    timeOfDayWeekendFactor: multiplier().default(0.8),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.minNotionalUsd >= p.maxNotionalUsd) {
      ctx.addIssue({ code: 'custom', path: ['minNotionalUsd'], message: 'must be below maxNotionalUsd' });
    }
    if (p.minQuantity > 0 && p.quantityStep > p.minQuantity) {
      ctx.addIssue({ code: 'custom', path: ['quantityStep'], message: 'must not exceed minQuantity' });
    }
  });
export type PretradePolicy = z.infer<typeof PretradePolicySchema>;
