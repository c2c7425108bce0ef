import { z } from 'zod';

/**
 * The heatmap's shape is declared once, here, as zod schemas; the types are inferred from
 * them. The stores validate what they write and read with these (src/stores/
 * heatmap-snapshot-schema.ts) and the HTTP response reuses the parts it answers as they
 * are (src/modules/heatmaps/schemas.ts). zod 4's z.number() accepts only finite numbers.
 */
const num = z.number();

/** One price bin of the liquidation ladder. */
export const HeatmapBinSchema = z.object({
  price: num.describe('Bin centre'),
  /** Estimated long notional (USD) whose liquidation price falls in this bin. */
  longUsd: num.describe('Estimated long notional liquidated in this bin'),
  /** Estimated short notional (USD) whose liquidation price falls in this bin. */
  shortUsd: num.describe('Estimated short notional liquidated in this bin'),
  /** (longUsd + shortUsd) / total notional on the ladder; sums to 1 over the ladder (0 if empty). */
  probability: num.describe('Share of the ladder total in this bin'),
});
export type HeatmapBin = z.infer<typeof HeatmapBinSchema>;

/** A contiguous dense zone of liquidation notional on one side. */
export const ClusterSchema = z.object({
  /** `long` = long positions would be liquidated here (below the mark); `short` = shorts (above). */
  side: z.enum(['long', 'short']).describe('long: longs liquidated here (below the mark); short: shorts (above)'),
  peakPrice: num,
  priceLow: num,
  priceHigh: num,
  notionalUsd: num,
  /** notionalUsd / total ladder notional (both sides). */
  share: num,
  /** Signed distance from the mark to the nearest edge of the zone, in bps of the mark (0 if the mark is inside). */
  distanceBps: num,
  /** Major by the documented rule in docs/model.md. */
  major: z.boolean(),
});
export type Cluster = z.infer<typeof ClusterSchema>;

export const CrowdingSchema = z.object({
  /** Which side is crowded (and therefore vulnerable), or `neutral`. */
  side: z.enum(['long', 'short', 'neutral']),
  /** 0..1. */
  strength: num,
  fundingRate: num,
  /** Open-interest change over the crowding window, as a fraction. */
  oiChangePct: num,
});
export type Crowding = z.infer<typeof CrowdingSchema>;

export const RiskScoreSchema = z.object({
  /** 0..100, rising as the mark nears the largest cluster. */
  score: num,
  /** The inputs that produced it (named numbers, for explanation). */
  inputs: z.record(z.string(), num),
});
export type RiskScore = z.infer<typeof RiskScoreSchema>;

/** Short-horizon realized volatility from the bars the model has seen. */
export const VolatilitySchema = z.object({
  /**
   * Standard deviation of bar-to-bar log returns of the close over the last `bars` bars,
   * scaled to one hour by the square root of time, in bps; null with fewer bars than the
   * model's minimum.
   */
  realizedBpsPerHour: num.nonnegative().nullable(),
  /** How many returns it was measured on. */
  bars: z.number().int().nonnegative(),
});
export type Volatility = z.infer<typeof VolatilitySchema>;

/** Where the current funding rate sits in this symbol's own funding history. */
export const FundingRegimeSchema = z.object({
  /** Latest funding rate, fraction per 8h; null when unknown. */
  rate: num.nullable(),
  /**
   * Mid-rank of the latest rate in the history, 0..1: (samples below + half the samples equal)
   * / samples, so a rate that has stood for days at the usual level reads mid-range, not as
   * the top; null when the history is shorter than the model's minimum.
   */
  percentile: num.min(0).max(1).nullable(),
  /** Samples in the history. */
  samples: z.number().int().nonnegative(),
});
export type FundingRegime = z.infer<typeof FundingRegimeSchema>;

/** One cluster a cascade reached: the zone as the map's clusters give it. */
export const CascadeLinkSchema = z.object({
  peakPrice: num,
  priceLow: num,
  priceHigh: num,
  notionalUsd: num.nonnegative(),
  major: z.boolean(),
});
export type CascadeLink = z.infer<typeof CascadeLinkSchema>;

/**
 * One side's cascade (docs/model.md, "Cascades"): the nearest major cluster of the side
 * triggers; its forced orders walk the thinned book; every cluster of the side the move
 * reaches adds its notional, until the move reaches no further cluster or the cap.
 */
export const CascadeSideSchema = z.object({
  triggerPrice: num.positive().describe('Near edge of the first major cluster of the side (the mark when the mark is inside it)'),
  triggerDistanceBps: num.nonnegative().describe('Mark to trigger, bps of the mark'),
  moveBps: num.nonnegative().describe('How far the forced orders move the price past the trigger, bps of the trigger (at most maxMoveBps)'),
  reachBps: num.nonnegative().describe('Mark to where the walk stops, bps of the mark: the reach of the cascade'),
  endPrice: num.nonnegative().describe('Where the walk stops'),
  forcedUsd: num.nonnegative().describe('Forced orders (USD) the walk ran: forcedShare x the notional of the chain'),
  chain: z.array(CascadeLinkSchema).describe('The clusters of the side the move reaches, nearest the mark first'),
  capped: z.boolean().describe('The move hit maxMoveBps: it may run further'),
  depthExhausted: z.boolean().describe('The forced orders ran through the visible book: the move beyond it is extrapolated at its average depth (with no book, the cap)'),
});
export type CascadeSide = z.infer<typeof CascadeSideSchema>;

export const CascadesSchema = z.object({
  depth: z.enum(['book', 'none']).describe("book: walked through the snapshot's order book; none: no usable book, so every walk runs to the cap"),
  forcedShare: num.describe("Share of a reached cluster's notional that reaches the book as forced orders (model param cascade.forcedShare)"),
  depthFactor: num.describe('Share of the displayed depth assumed to stand during a cascade (model param cascade.depthFactor)'),
  maxMoveBps: num.describe('Cap on a walk (model param cascade.maxMoveBps)'),
  long: CascadeSideSchema.nullable().describe('Longs liquidated by a falling price (forced sells into the bids); null without a major long cluster'),
  short: CascadeSideSchema.nullable().describe('Shorts liquidated by a rising price (forced buys from the asks); null without a major short cluster'),
});
export type Cascades = z.infer<typeof CascadesSchema>;

/** The heatmap of one symbol at one instant: serialisable as JSON. */
export const HeatmapSchema = z.object({
  symbol: z.string(),
  venues: z.array(z.string()),
  /** Epoch ms of the data the map reflects (last bar close or snapshot time). */
  asOf: num,
  markPrice: num.positive(),
  /** Bin width in bps of the mark. */
  binBps: num.positive(),
  /** Half-range of the ladder around the mark, as a fraction (0.1 = ±10%). */
  rangePct: num.positive(),
  bins: z.array(HeatmapBinSchema),
  clusters: z.array(ClusterSchema),
  crowding: CrowdingSchema,
  risk: RiskScoreSchema,
  totalLongUsd: num,
  totalShortUsd: num,
  /** Aggregate open interest (USD) the model accounts for. */
  openInterestUsd: num,
  /**
   * Of totalLongUsd + totalShortUsd, the part whose entries the model does not know (OI
   * older than its history, or aged out of its cohorts); drawn spread around the mark.
   * Absent on maps written before the field existed.
   */
  unlocatedUsd: num.nonnegative().optional(),
  /** Absent on maps written before the field existed (the gate treats that as unknown). */
  volatility: VolatilitySchema.optional(),
  /** Absent on maps written before the field existed (the gate treats that as unknown). */
  funding: FundingRegimeSchema.optional(),
  /**
   * How the major clusters' forced orders would propagate through the book. Absent on maps
   * written before the field existed and on maps built without an order book argument (the
   * evaluation); the gate then widens nothing for cascades.
   */
  cascades: CascadesSchema.optional(),
});
export type Heatmap = z.infer<typeof HeatmapSchema>;

/**
 * A realized liquidation as a snapshot carries it (`RealizedLiquidation` of
 * domain/market-data.ts): `side` is the liquidated POSITION's side (a long is liquidated by
 * a sell order).
 */
export const RealizedLiquidationSchema = z.object({
  /** Epoch ms. */
  ts: num,
  side: z.enum(['long', 'short']),
  price: num.positive(),
  /** Notional, USD. */
  usd: num.positive(),
  /** The exchange that reported it, when the source knows it. */
  venue: z.string().optional(),
});

