import type { Side } from '../market-data.js';

/** One price bin of the liquidation ladder. */
export interface HeatmapBin {
  /** Bin centre price. */
  price: number;
  /** Estimated long notional (USD) whose liquidation price falls in this bin. */
  longUsd: number;
  /** Estimated short notional (USD) whose liquidation price falls in this bin. */
  shortUsd: number;
  /** (longUsd + shortUsd) / total notional on the ladder; sums to 1 over the ladder (0 if empty). */
  probability: number;
}

/** A contiguous dense zone of liquidation notional on one side. */
export interface Cluster {
  /** `long` = long positions would be liquidated here (below the mark); `short` = shorts (above). */
  side: Side;
  peakPrice: number;
  priceLow: number;
  priceHigh: number;
  notionalUsd: number;
  /** notionalUsd / total ladder notional (both sides). */
  share: number;
  /** Signed distance from the mark to the nearest edge of the zone, in bps of the mark (0 if the mark is inside). */
  distanceBps: number;
  /** Major by the documented rule in docs/model.md. */
  major: boolean;
}

export interface Crowding {
  /** Which side is crowded (and therefore vulnerable), or `neutral`. */
  side: Side | 'neutral';
  /** 0..1. */
  strength: number;
  fundingRate: number;
  /** Open-interest change over the crowding window, as a fraction. */
  oiChangePct: number;
}

export interface RiskScore {
  /** 0..100, rising as the mark nears the largest cluster. */
  score: number;
  /** The inputs that produced it (named numbers, for explanation). */
  inputs: Record<string, number>;
}

/** Short-horizon realized volatility from the bars the model has seen. */
export interface Volatility {
  /**
   * Standard deviation of bar-to-bar log returns of the close over the last `bars` bars,
   * scaled to one hour by the square root of time, in bps; null with fewer bars than the
   * model's minimum.
   */
  realizedBpsPerHour: number | null;
  /** How many returns it was measured on. */
  bars: number;
}

/** Where the current funding rate sits in this symbol's own funding history. */
export interface FundingRegime {
  /** Latest funding rate, fraction per 8h; null when unknown. */
  rate: number | null;
  /**
   * Mid-rank of the latest rate in the history, 0..1: (samples below + half the samples equal)
   * / samples, so a rate that has stood for days at the usual level reads mid-range, not as
   * the top; null when the history is shorter than the model's minimum.
   */
  percentile: number | null;
  /** Samples in the history. */
  samples: number;
}

/** The heatmap of one symbol at one instant: serialisable as JSON. */
export interface Heatmap {
  symbol: string;
  venues: string[];
  /** Epoch ms of the data the map reflects (last bar close or snapshot time). */
  asOf: number;
  markPrice: number;
  /** Bin width in bps of the mark. */
  binBps: number;
  /** Half-range of the ladder around the mark, as a fraction (0.1 = ±10%). */
  rangePct: number;
  bins: HeatmapBin[];
  clusters: Cluster[];
  crowding: Crowding;
  risk: RiskScore;
  totalLongUsd: number;
  totalShortUsd: number;
  /** Aggregate open interest (USD) the model accounts for. */
  openInterestUsd: number;
  /** Absent on maps written before the field existed (the gate treats that as unknown). */
  volatility?: Volatility | undefined;
  /** Absent on maps written before the field existed (the gate treats that as unknown). */
  funding?: FundingRegime | undefined;
}
