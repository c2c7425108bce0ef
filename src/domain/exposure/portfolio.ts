import { z } from 'zod';
import type { Heatmap } from '../heatmap/types.js';
import { liquidationDistance, liquidationPrice } from '../margin.js';

/**
 * Portfolio risk allocation (POST /risk/portfolio): how close each position sits to the
 * liquidation zone that would run against it, and how much of the book's exposure should
 * stay on when risk concentrates or correlated positions stack. Formulas: docs/exposure.md.
 */

export const PortfolioPositionSchema = z
  .object({
    symbol: z.string().regex(/^[A-Z0-9]{2,20}$/, 'an upper-case symbol id such as BTCUSDT'),
    side: z.enum(['long', 'short']),
    notional: z.number().finite().positive().max(1e12).describe('USD'),
    leverage: z.number().finite().min(1).max(1000).optional().describe('Default: the policy defaultLeverage'),
    entryPrice: z.number().finite().positive().max(1e9).optional().describe('Default: the mark'),
  })
  .strict();
export type PortfolioPosition = z.infer<typeof PortfolioPositionSchema>;

export interface PositionRisk {
  symbol: string;
  side: 'long' | 'short';
  notional: number;
  markPrice: number;
  /** The nearest major cluster on the side that runs against the position (longs: below, shorts: above), or null. */
  dangerZone: { priceLow: number; priceHigh: number; peakPrice: number; distanceBps: number; notionalUsd: number } | null;
  liquidationPrice: number;
  /** True when the liquidation price sits nearer the mark than the zone's far edge: a cascade through the zone takes the position. */
  liquidationInsideCascade: boolean;
  /** 0..100. */
  riskScore: number;
}

export interface PortfolioRisk {
  positions: PositionRisk[];
  /** 0..100: notional-weighted position risk, amplified as positions stack (diversification ratio). */
  systemicScore: number;
  /** 0..1: the share of exposure the book should keep. */
  exposureMultiplier: number;
  /** sqrt(e' C e) / sum |e|: 1 = one position or everything perfectly correlated in one direction; lower = diversified or hedged. */
  diversificationRatio: number;
  correlations: { a: string; b: string; rho: number; n: number; assumed: boolean }[];
}

/** Distances are scored over this range (bps of the mark): a zone or a liquidation this far away or farther scores 0. */
export const RISK_RANGE_BPS = 500;

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

export function positionRisk(p: PortfolioPosition, heatmap: Heatmap, mmr: number, defaultLeverage: number): PositionRisk {
  const mark = heatmap.markPrice;
  const entry = p.entryPrice ?? mark;
  const liq = liquidationPrice(p.side, entry, liquidationDistance(p.leverage ?? defaultLeverage, mmr));
  let zone: Heatmap['clusters'][number] | null = null;
  for (const c of heatmap.clusters) {
    if (!c.major || c.side !== p.side) continue;
    if (!zone || Math.abs(c.distanceBps) < Math.abs(zone.distanceBps)) zone = c;
  }
  if (!zone) {
    return { symbol: p.symbol, side: p.side, notional: p.notional, markPrice: mark, dangerZone: null, liquidationPrice: liq, liquidationInsideCascade: false, riskScore: 0 };
  }
  const farEdge = p.side === 'long' ? zone.priceLow : zone.priceHigh;
  const inside = p.side === 'long' ? liq >= farEdge : liq <= farEdge;
  // How far beyond the far edge the liquidation sits (bps of the mark); 0 when inside.
  const gapBps = inside ? 0 : (Math.abs(liq - farEdge) / mark) * 1e4;
  const proximity = clamp01(1 - Math.abs(zone.distanceBps) / RISK_RANGE_BPS);
  const liqExposure = clamp01(1 - gapBps / RISK_RANGE_BPS);
  return {
    symbol: p.symbol,
    side: p.side,
    notional: p.notional,
    markPrice: mark,
    dangerZone: { priceLow: zone.priceLow, priceHigh: zone.priceHigh, peakPrice: zone.peakPrice, distanceBps: round(Math.abs(zone.distanceBps), 2), notionalUsd: zone.notionalUsd },
    liquidationPrice: liq,
    liquidationInsideCascade: inside,
    riskScore: round(100 * (0.5 * proximity + 0.5 * liqExposure), 2),
  };
}

/**
 * The book: R = notional-weighted position risk (0..1); D = the diversification ratio of the
 * signed notionals under the correlations; systemic = 100 R (1 + D) / 2, so the same risk
 * counts more when it stacks; multiplier = 1 - 0.75 systemic / 100 (never below 0.25: the
 * gate still lets a book hedge and reduce).
 */
export function portfolioRisk(
  positions: readonly PositionRisk[],
  rho: (a: string, b: string) => { rho: number; n: number; assumed: boolean },
): PortfolioRisk {
  const total = positions.reduce((s, p) => s + p.notional, 0);
  const signed = positions.map((p) => (p.side === 'long' ? p.notional : -p.notional));
  let variance = 0;
  const correlations: PortfolioRisk['correlations'] = [];
  const seen = new Set<string>();
  for (let i = 0; i < positions.length; i++) {
    for (let j = 0; j < positions.length; j++) {
      const a = positions[i]!.symbol;
      const b = positions[j]!.symbol;
      const c = a === b ? { rho: 1, n: 0, assumed: false } : rho(a, b);
      // An assumed correlation (too little history) stacks same-direction positions fully
      // but credits no hedge: opposite positions count as unrelated (0), not as offsetting.
      const hedge = signed[i]! * signed[j]! < 0;
      variance += signed[i]! * signed[j]! * (c.assumed && hedge ? 0 : c.rho);
      const key = a < b ? `${a}|${b}` : `${b}|${a}`;
      if (a !== b && !seen.has(key)) {
        seen.add(key);
        correlations.push({ a: a < b ? a : b, b: a < b ? b : a, rho: round(c.rho, 4), n: c.n, assumed: c.assumed });
      }
    }
  }
  const d = total > 0 ? clamp01(Math.sqrt(Math.max(0, variance)) / total) : 0;
  const r = total > 0 ? positions.reduce((s, p) => s + (p.notional / total) * (p.riskScore / 100), 0) : 0;
  const systemic = 100 * r * (1 + d) / 2;
  return {
    positions: [...positions],
    systemicScore: round(systemic, 2),
    exposureMultiplier: round(1 - 0.75 * systemic / 100, 4),
    diversificationRatio: round(d, 4),
    correlations,
  };
}
