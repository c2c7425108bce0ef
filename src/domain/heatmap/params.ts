import { z } from 'zod';
import { ModelHealthParamsSchema } from '../model-health/params.js';

/**
 * Heatmap model parameters. Every field has a default (documented with its reason in
 * docs/model.md), so `HeatmapParamsSchema.parse({})` is the calibrated model and a policy
 * file can override any subset per symbol. Unknown keys are errors at every level.
 */

/** Leverage mixture: tier i has leverage `tiers[i]`, share `weights[i]` of new notional, and its cohorts' half-life. */
const LeverageSchema = z
  .object({
    tiers: z.array(z.number().min(1).max(1000)).min(1).max(16).default([5, 10, 25, 50, 100]),
    weights: z.array(z.number().min(0)).min(1).max(16).default([0.1, 0.25, 0.25, 0.25, 0.15]),
    halfLifeHours: z.array(z.number().gt(0)).min(1).max(16).default([720, 360, 168, 72, 36]),
  })
  .strict();

/** How new open interest is split between longs and shorts: 0.5 ± maxTilt/2 × weighted evidence. */
const SplitSchema = z
  .object({
    /** Weight of taker buy/sell imbalance, when the venue reports it. */
    takerWeight: z.number().min(0).default(1),
    /** Weight of candle direction (close − open) / (high − low). */
    candleWeight: z.number().min(0).default(1),
    /** Weight of funding above its neutral level. */
    fundingWeight: z.number().min(0).default(0.5),
    /** Weight of the long/short account ratio, when the venue reports it. */
    longShortRatioWeight: z.number().min(0).default(0.5),
    /** Largest departure from 50/50: the long share stays in 0.5 ± maxTilt/2. */
    maxTilt: z.number().min(0).max(1).default(0.3),
    /** Side tilt applied when open interest falls: a down bar closes more longs, an up bar more shorts. */
    closeTilt: z.number().min(0).max(1).default(0.3),
  })
  .strict();

/** Funding reference levels shared by the split and the crowding read. */
const FundingSchema = z
  .object({
    /** Funding per 8h that carries no crowding information (the usual 0.01% interest component). */
    neutral: z.number().default(0.0001),
    /** Funding excess (per 8h) that counts as full-strength evidence. */
    scale: z.number().gt(0).default(0.0003),
    /** Funding samples (one per bar carrying a rate) kept per venue for the funding regime's percentile. */
    historyBars: z.number().int().min(1).max(100_000).default(2016),
    /** Fewer samples than this: the percentile is null (unknown). */
    minHistoryBars: z.number().int().min(1).max(100_000).default(288),
  })
  .strict();

/** Short-horizon realized volatility of the closes. */
const VolatilitySchema = z
  .object({
    /** Close-to-close returns it is measured over: the last this many. */
    windowBars: z.number().int().min(2).max(1000).default(12),
    /** Fewer returns than this: the volatility is null (unknown). */
    minBars: z.number().int().min(2).max(1000).default(6),
  })
  .strict();

/** Open interest that predates the lookback, or whose cohort has aged out: the "unlocated" pool. */
const LegacySchema = z
  .object({
    /** Long share of the unlocated pool at the first bar. */
    longShare: z.number().min(0).max(1).default(0.5),
    /** Entries of unlocated positions are spread uniformly within ± this fraction of the current price. */
    entrySpreadPct: z.number().gt(0).max(0.5).default(0.03),
  })
  .strict();

const ClusterSchema = z
  .object({
    /** A bin is dense when its side's notional is at least this multiple of the side's mean bin. */
    densityMultiple: z.number().gt(0).default(1.5),
    /** Major: share of total ladder notional at least this... */
    majorMinShare: z.number().min(0).max(1).default(0.05),
    /** ...and peak bin at least this multiple of the side's median non-empty bin. */
    majorPeakMultiple: z.number().min(0).default(2),
    /** At most this many clusters per side are reported (largest first). */
    maxPerSide: z.number().int().min(1).max(100).default(10),
  })
  .strict();

const CrowdingSchema = z
  .object({
    /** Window over which the open-interest change is measured. */
    windowHours: z.number().gt(0).default(24),
    /** OI change (fraction) that counts as full-strength confirmation of the funding read. */
    oiChangeScale: z.number().gt(0).default(0.05),
    /** Below this strength the read is `neutral`. */
    neutralBelow: z.number().min(0).max(1).default(0.2),
  })
  .strict();

const RiskSchema = z
  .object({
    /** Distance (bps) at which the proximity term has fallen to 1/e. */
    distanceScaleBps: z.number().gt(0).default(150),
    /** Extra weight (0..1) when the cluster's side is also the crowded side. */
    crowdingBoost: z.number().min(0).max(1).default(0.25),
  })
  .strict();

export const HeatmapParamsSchema = z
  .object({
    /** Default half-range of the ladder around the mark, as a fraction (0.15 = ±15%). */
    rangePct: z.number().gt(0).max(0.9).default(0.15),
    /** Default ladder bin width, bps of the mark. */
    binBps: z.number().gt(0).max(1000).default(10),
    /** Resolution of the internal liquidation-price grid (log-spaced), bps. */
    gridBps: z.number().gt(0).max(100).default(1),
    /** Venue/symbol leverage cap: tiers above it are clamped to it. */
    maxLeverage: z.number().min(1).max(1000).default(125),
    /** Share of all open positions that close and reopen at the current price per hour (turnover while OI is flat). */
    turnoverPerHour: z.number().min(0).max(10).default(0.1),
    /** Share of a bar's new positions whose entries are spread over the bar's [low, high]; the rest enter at (H+L+C)/3. */
    entryRangeShare: z.number().min(0).max(1).default(1),
    /** Gaussian smoothing of the ladder (sigma, bps); 0 disables. */
    smoothingBps: z.number().min(0).max(1000).default(20),
    leverage: LeverageSchema.default(LeverageSchema.parse({})),
    split: SplitSchema.default(SplitSchema.parse({})),
    funding: FundingSchema.default(FundingSchema.parse({})),
    volatility: VolatilitySchema.default(VolatilitySchema.parse({})),
    legacy: LegacySchema.default(LegacySchema.parse({})),
    cluster: ClusterSchema.default(ClusterSchema.parse({})),
    crowding: CrowdingSchema.default(CrowdingSchema.parse({})),
    risk: RiskSchema.default(RiskSchema.parse({})),
    /** Live self-scoring against realized liquidations (not an input to the map). */
    health: ModelHealthParamsSchema.default(ModelHealthParamsSchema.parse({})),
  })
  .strict()
  .superRefine((p, ctx) => {
    const { tiers, weights, halfLifeHours } = p.leverage;
    if (weights.length !== tiers.length || halfLifeHours.length !== tiers.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['leverage'],
        message: `tiers, weights and halfLifeHours must have the same length (got ${tiers.length}, ${weights.length}, ${halfLifeHours.length})`,
      });
    }
    if (!weights.some((w) => w > 0)) {
      ctx.addIssue({ code: 'custom', path: ['leverage', 'weights'], message: 'at least one weight must be positive' });
    }
    if (p.volatility.minBars > p.volatility.windowBars) {
      ctx.addIssue({ code: 'custom', path: ['volatility', 'minBars'], message: `must not exceed volatility.windowBars (${p.volatility.windowBars})` });
    }
    if (p.funding.minHistoryBars > p.funding.historyBars) {
      ctx.addIssue({ code: 'custom', path: ['funding', 'minHistoryBars'], message: `must not exceed funding.historyBars (${p.funding.historyBars})` });
    }
    if (p.gridBps > p.binBps) {
      ctx.addIssue({ code: 'custom', path: ['gridBps'], message: 'must not exceed binBps' });
    }
    if ((p.rangePct * 1e4) / p.binBps > 5000) {
      ctx.addIssue({ code: 'custom', path: ['binBps'], message: 'ladder would exceed 10,001 bins; widen binBps or narrow rangePct' });
    }
  });

export type HeatmapParams = z.infer<typeof HeatmapParamsSchema>;

/**
 * Leverage tiers that would be liquidatable as they open under this maintenance-margin
 * rate (1 / L at or below it), as [tier index, message]: the model cannot place them.
 */
export function leverageTierProblems(p: HeatmapParams, rate: number): [number, string][] {
  return p.leverage.tiers.flatMap((l, i): [number, string][] =>
    1 / Math.min(l, p.maxLeverage) <= rate ? [[i, `leverage ${l} leaves no margin above the maintenance margin rate ${rate}`]] : [],
  );
}
