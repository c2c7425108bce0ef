import { z } from 'zod';
import { maintenanceRateAt, maxLeverageAt, type MaintenanceMargin } from '../margin.js';
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

/**
 * Position sizes (USD notional) assumed for the cohorts, and each one's share of every
 * leverage tier: a size picks the maintenance-margin tier (rate by notional, see
 * domain/margin.ts) and caps the leverage at the venue's maximum for that size. The default,
 * one retail-sized class, is the lowest tier (docs/model.md, "Candidates tried").
 */
const PositionSizeSchema = z
  .object({
    notionalUsd: z.array(z.number().gt(0)).min(1).max(8).default([10_000]),
    shares: z.array(z.number().min(0)).min(1).max(8).default([1]),
  })
  .strict();

/**
 * Where within a bar's range its new entries go: a share placed by the recent volume-at-price
 * profile (each bar's volume, or its duration when it has none, spread over its range and
 * decayed), the rest uniformly. 0 (the default) is the uniform model.
 */
const EntryProfileSchema = z
  .object({
    /** Share of the range entries placed by the profile; 0 disables it. */
    share: z.number().min(0).max(1).default(0),
    /** Half-life of the profile, hours. */
    halfLifeHours: z.number().gt(0).max(10_000).default(24),
    /** Profile bucket width, bps. */
    bucketBps: z.number().gt(0).max(1000).default(5),
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
    /** The score is raised by up to this fraction (x (1 + boost x severity)) when the largest cluster's side cascades. */
    cascadeBoost: z.number().min(0).max(1).default(0.5),
    /** A cascade move (bps) at which its severity reaches 1. */
    cascadeScaleBps: z.number().gt(0).default(200),
  })
  .strict();

/** The cascade walk: how much of a cluster is forced, how much of the displayed book stands while it runs, and where the walk stops. */
const CascadeSchema = z
  .object({
    /**
     * Share of a reached cluster's notional that reaches the book as forced orders. Realized
     * liquidations were 4.6% of the notional the model placed in the swept ranges on the
     * calibration set (docs/model.md, "Cascades"): most positions close, add margin or are
     * stopped out before their liquidation price.
     */
    forcedShare: z.number().gt(0).max(1).default(0.05),
    /** Share of the displayed depth assumed to be there during a cascade (makers pull near a cluster). */
    depthFactor: z.number().gt(0).max(1).default(0.5),
    /** The walk stops at this move from the trigger (bps): beyond it the model claims nothing. */
    maxMoveBps: z.number().gt(0).max(5000).default(1000),
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
    entryProfile: EntryProfileSchema.default(EntryProfileSchema.parse({})),
    /**
     * Partial sweep: venues liquidate on the mark price, which wicks less than the last price
     * bars record. Cohorts within this many bps inside a bar's extreme are only partly
     * cleared (all kept at the extreme, none this far inside it); 0 sweeps every level the
     * bar reached.
     */
    sweepGraceBps: z.number().min(0).max(500).default(0),
    /** Gaussian smoothing of the ladder (sigma, bps); 0 disables. */
    smoothingBps: z.number().min(0).max(1000).default(20),
    leverage: LeverageSchema.default(LeverageSchema.parse({})),
    positionSizes: PositionSizeSchema.default(PositionSizeSchema.parse({})),
    split: SplitSchema.default(SplitSchema.parse({})),
    funding: FundingSchema.default(FundingSchema.parse({})),
    volatility: VolatilitySchema.default(VolatilitySchema.parse({})),
    legacy: LegacySchema.default(LegacySchema.parse({})),
    cluster: ClusterSchema.default(ClusterSchema.parse({})),
    crowding: CrowdingSchema.default(CrowdingSchema.parse({})),
    risk: RiskSchema.default(RiskSchema.parse({})),
    cascade: CascadeSchema.default(CascadeSchema.parse({})),
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
    if (p.positionSizes.shares.length !== p.positionSizes.notionalUsd.length) {
      ctx.addIssue({ code: 'custom', path: ['positionSizes'], message: `notionalUsd and shares must have the same length (got ${p.positionSizes.notionalUsd.length}, ${p.positionSizes.shares.length})` });
    }
    if (!p.positionSizes.shares.some((w) => w > 0)) {
      ctx.addIssue({ code: 'custom', path: ['positionSizes', 'shares'], message: 'at least one share must be positive' });
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

/** One cohort class: a leverage tier at one assumed position size. */
export interface CohortClass {
  /** The tier's leverage, capped by `maxLeverage` and by the venue's maximum for the size. */
  leverage: number;
  /** Share of new notional: the tier's weight times the size's share (normalised over all classes). */
  weight: number;
  /** Maintenance-margin rate at the size (domain/margin.ts `maintenanceRateAt`). */
  rate: number;
  halfLifeHours: number;
}

/**
 * Every (leverage tier, position size) class the model places cohorts for, in tier order
 * then size order. With one size class this is the leverage tiers themselves.
 */
export function cohortClasses(p: HeatmapParams, mm: MaintenanceMargin): CohortClass[] {
  const { tiers, weights, halfLifeHours } = p.leverage;
  const { notionalUsd, shares } = p.positionSizes;
  const wTotal = weights.reduce((a, w) => a + w, 0);
  const sTotal = shares.reduce((a, w) => a + w, 0);
  return tiers.flatMap((l, i) =>
    notionalUsd.map((n, j) => ({
      leverage: Math.min(l, p.maxLeverage, maxLeverageAt(mm, n)),
      // One size class: the tier's own weight, not (w / total) × 1, so the default model is unchanged bit for bit.
      weight: notionalUsd.length === 1 ? (weights[i] ?? 0) / wTotal : (((weights[i] ?? 0) / wTotal) * (shares[j] ?? 0)) / sTotal,
      rate: maintenanceRateAt(mm, n),
      halfLifeHours: halfLifeHours[i] ?? 1,
    })),
  );
}

/**
 * Leverage tiers that would be liquidatable as they open under the maintenance margin at
 * some assumed position size (1 / L at or below its rate), as [tier index, message]: the
 * model cannot place them.
 */
export function leverageTierProblems(p: HeatmapParams, mm: MaintenanceMargin): [number, string][] {
  const sizes = p.positionSizes.notionalUsd;
  return p.leverage.tiers.flatMap((l, i): [number, string][] => {
    const bad = sizes.find((n) => 1 / Math.min(l, p.maxLeverage, maxLeverageAt(mm, n)) <= maintenanceRateAt(mm, n));
    if (bad === undefined) return [];
    const rate = maintenanceRateAt(mm, bad);
    const at = sizes.length === 1 ? '' : ` at a position of ${bad} USD`;
    return [[i, `leverage ${l} leaves no margin above the maintenance margin rate ${rate}${at}`]];
  });
}
