import { clamp } from '../../lib/math.js';
import type { HeatmapParams } from './params.js';

/**
 * Which side is vulnerable (more likely to be liquidated next), from three reads together:
 * funding (who pays to hold), open-interest build-up (is the crowd adding) and the on-side
 * notional the book holds near the price (how much each side has within reach). A candidate
 * beside the funding-only crowding read (`readCrowding`); scored in docs/model.md
 * ("Candidates tried"), not used by the map.
 */
export interface VulnerableSideInputs {
  fundingRate: number;
  /** Open-interest change over the crowding window, as a fraction. */
  oiChangePct: number;
  /** Long notional liquidating within the band below the price, and short notional within the band above. */
  longNearUsd: number;
  shortNearUsd: number;
}

export interface VulnerableSideRead {
  /** In [−1, 1]: positive, longs are the vulnerable side; negative, shorts. */
  score: number;
  /** The parts: funding signal and near-notional imbalance in [−1, 1], OI confirmation in [0, 1]. */
  funding: number;
  notional: number;
  confirm: number;
}

/**
 * score = (funding + notional) / 2 × (0.5 + 0.5 × confirm): the two directional reads
 * weighted equally (fixed before looking at the data), scaled by the OI build-up as the
 * crowding read scales funding.
 */
export function readVulnerableSide(i: VulnerableSideInputs, p: HeatmapParams): VulnerableSideRead {
  const funding = clamp((i.fundingRate - p.funding.neutral) / p.funding.scale, -1, 1);
  const confirm = clamp(i.oiChangePct / p.crowding.oiChangeScale, 0, 1);
  const near = i.longNearUsd + i.shortNearUsd;
  const notional = near > 0 ? clamp((i.longNearUsd - i.shortNearUsd) / near, -1, 1) : 0;
  const score = ((funding + notional) / 2) * (0.5 + 0.5 * confirm);
  return { score, funding, notional, confirm };
}
