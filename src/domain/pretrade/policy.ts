import { z } from 'zod';

/**
 * Pre-trade policy: every knob of the rules in rules/, with documented defaults.
 * `PretradePolicySchema.parse({})` gives the defaults; a policy file may override any
 * subset globally and per symbol (unknown keys are errors). The object is plain JSON
 * (hashed into `policyVersion`, shown at GET /policy). What each rule does and why, with
 * its default: docs/pretrade-rules.md.
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
    /** Price increment (quote units) for prices in messages; null = the venues' (market spec), else 8 significant digits. */
    tickSize: positive().nullable().default(null),
    /** Quantity step (base units): approvals are rounded down to it; null = the venues' (market spec), else 0.001. */
    quantityStep: positive().nullable().default(null),
    /** Smallest quantity (base units) worth sending; null = the venues', else 0.001. */
    minQuantity: z.number().finite().min(0).nullable().default(null),
    /** Largest quantity (base units) of one order; null = the venues', else none. */
    maxQuantity: positive().nullable().default(null),
    /** Smallest notional (USD) worth sending; null = the venues', else 5 (Binance USD-M: 5 USDT on small caps, 100 on BTC). */
    minNotionalUsd: z.number().finite().min(0).nullable().default(null),
    /** Which major clusters the cluster rules look at. */
    clusterSides: z.enum(['any', 'adverse']).default('any'),
    /** No new position within this distance (bps of mark) of a major cluster, at full liquidity. */
    noTradeBufferBps: z.number().finite().min(0).default(30),
    /** The buffer against a side's major clusters widens by this share of that side's cascade move (bps) on the heatmap. */
    cascadeBufferShare: z.number().finite().min(0).max(10).default(0.25),
    /** The cascade widening is at most this many bps. */
    cascadeBufferMaxBps: z.number().finite().min(0).default(60),
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
    /** Highest leverage accepted; null = the venues' (market spec), else only the 1 / maintenance margin bound. */
    maxLeverage: z.number().finite().min(1).nullable().default(null),
    /** A risk-adding order without `leverage`: assume `defaultLeverage` (and say so), or reject it. */
    leverageWhenMissing: z.enum(['assume', 'require']).default('assume'),
    /** Leverage assumed for a risk-adding order that does not give one. */
    defaultLeverage: z.number().finite().min(1).default(10),
    /** The own liquidation price must lie at least this far (bps of the mark) beyond the far edge of every major zone of its side. */
    liqClearanceBps: z.number().finite().min(0).default(50),
    /** Data dated more than this far in the future (ms) is stale: clock skew beyond it is a fault. */
    clockSkewToleranceMs: z.number().int().min(0).default(2_000),
    /** With no usable book, a limit within this many bps of the mark (or through it) counts as marketable. */
    noBookMarketableBandBps: z.number().finite().min(0).default(50),
    /** Realized volatility (bps per hour) at or below which the buffer and size caps are not tightened. */
    volatilityReferenceBpsPerHour: positive().default(60),
    /** Lowest volatility factor (buffer / factor, size caps x factor) however volatile the market. */
    volatilityMinFactor: multiplier().default(0.25),
    /** Volatility factor when the heatmap does not say (old map, too few bars): conservative. */
    volatilityUnknownFactor: multiplier().default(0.5),
    /** Funding percentile at or above which (or at or below 1 minus which) the funding regime is extreme. */
    fundingExtremePercentile: z.number().finite().min(0.5).max(1).default(0.95),
    /** Buffer / factor and size caps x factor for orders on the side an extreme-funding cascade would run against. */
    fundingExtremeFactor: multiplier().default(0.5),
    /** Heatmap confidence (0..1) at or above which the buffer and size caps are not tightened. */
    confidenceFullAt: z.number().finite().gt(0).max(1).default(0.8),
    /** Confidence factor at confidence 0 (and for a map that carries none): buffer / factor, size caps x factor; linear up to 1 at confidenceFullAt. */
    confidenceMinFactor: multiplier().default(0.5),
    /** Weekday liquidity multipliers per UTC hour 0..23, each in (0, 1]. */
    timeOfDayHourlyUtc: z.array(multiplier()).length(24).default([...DEFAULT_TIME_OF_DAY_HOURLY_UTC]),
    /** Extra multiplier on Saturday and Sunday (UTC). A judgement: see docs/pretrade-rules.md. */
    timeOfDayWeekendFactor: multiplier().default(0.8),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.minNotionalUsd !== null && p.minNotionalUsd >= p.maxNotionalUsd) {
      ctx.addIssue({ code: 'custom', path: ['minNotionalUsd'], message: `must be below maxNotionalUsd (${p.maxNotionalUsd})` });
    }
    if (p.minQuantity !== null && p.quantityStep !== null && p.minQuantity > 0 && p.quantityStep > p.minQuantity) {
      ctx.addIssue({ code: 'custom', path: ['quantityStep'], message: `must not exceed minQuantity (${p.minQuantity})` });
    }
    if (p.minQuantity !== null && p.maxQuantity !== null && p.maxQuantity < p.minQuantity) {
      ctx.addIssue({ code: 'custom', path: ['maxQuantity'], message: `must be at least minQuantity (${p.minQuantity})` });
    }
  });
export type PretradePolicy = z.infer<typeof PretradePolicySchema>;
