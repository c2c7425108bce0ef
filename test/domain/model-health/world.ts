import type { Heatmap } from '../../../src/domain/heatmap/types.js';
import type { RealizedLiquidation } from '../../../src/domain/market-data.js';
import { Prng } from '../../../src/market/prng.js';
import { buildHeatmap } from '../pretrade/factories.js';

/**
 * A synthetic market for scoring the scorer: per period, a textured ladder around the
 * period's open, a traded range, and realized liquidations drawn where the ladder has mass
 * inside that range (so a faithful ladder ranks them well, a shifted one does not).
 */

export const BIN_BPS = 10;
export const HALF = 150;

export interface WorldPeriod {
  open: number;
  long: number[];
  short: number[];
  low: number;
  high: number;
  events: RealizedLiquidation[];
}

/** Bin k of a ladder centred at `mark` (k relative to the mark's bin). */
export const binPrice = (mark: number, k: number): number => mark * (1 + (k * BIN_BPS) / 1e4);

export function buildWorld(periods: number, periodMs: number, seed = 1, start = Date.UTC(2026, 10, 24, 0, 0)): WorldPeriod[] {
  const rng = new Prng(seed, 'health-world');
  const out: WorldPeriod[] = [];
  let open = 100_000;
  for (let i = 0; i < periods; i++) {
    const long: number[] = [];
    const short: number[] = [];
    for (let j = -HALF; j <= HALF; j++) {
      const texture = 0.1 + 3 * rng.next() ** 2;
      long.push(j <= 0 ? 1e6 * texture : 0);
      short.push(j >= 0 ? 1e6 * texture : 0);
    }
    const kLow = -Math.round(rng.next() * 30);
    const kHigh = Math.round(rng.next() * 30);
    const t0 = start + i * periodMs;
    const events: RealizedLiquidation[] = [];
    for (let k = kLow; k <= kHigh; k++) {
      const side = k <= 0 ? 'long' : 'short';
      const mass = side === 'long' ? (long[HALF + k] ?? 0) : (short[HALF + k] ?? 0);
      if (rng.next() < 0.4) continue;
      events.push({ ts: t0 + 1 + Math.floor(rng.next() * (periodMs / 2)), side, price: binPrice(open, k), usd: mass * 0.01 * (0.5 + rng.next()) });
    }
    out.push({ open, long, short, low: binPrice(open, kLow), high: binPrice(open, kHigh), events });
    open = binPrice(open, Math.round((rng.next() - 0.5) * 40));
  }
  return out;
}

/** The period's ladder as a heatmap at `mark`, its mass moved `shiftBins` bins up (a deliberately wrong ladder). */
export function worldHeatmap(p: WorldPeriod, mark: number, asOf: number, shiftBins = 0): Heatmap {
  const bins = [];
  for (let j = -HALF; j <= HALF; j++) {
    const src = HALF + j - shiftBins;
    const longUsd = p.long[src] ?? 0;
    const shortUsd = p.short[src] ?? 0;
    bins.push({ price: binPrice(mark, j), longUsd, shortUsd, probability: 0 });
  }
  return buildHeatmap({ asOf, markPrice: mark, binBps: BIN_BPS, rangePct: (HALF * BIN_BPS) / 1e4, bins, unlocatedUsd: 0 });
}
