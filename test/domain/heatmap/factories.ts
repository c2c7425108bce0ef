import type { Bar } from '../../../src/domain/market-data.js';
import { HeatmapParamsSchema, type HeatmapParams } from '../../../src/domain/heatmap/index.js';

export const T0 = Date.UTC(2026, 0, 1);
export const MIN_30 = 30 * 60_000;

/** A flat bar at 100 with 1,000 USD of open interest and no side evidence (open = close, no funding). */
export function buildBar(overrides: Partial<Bar> = {}): Bar {
  return { ts: T0, open: 100, high: 100.1, low: 99.9, close: 100, openInterestUsd: 1_000, ...overrides };
}

/** Bars one after another, 30 minutes apart from T0, each built from its overrides. */
export function buildBars(list: Partial<Bar>[], step = MIN_30): Bar[] {
  return list.map((o, i) => buildBar({ ts: T0 + i * step, ...o }));
}

type Overrides = Record<string, unknown>;

/** Model params from the defaults with nested overrides. */
export function buildParams(overrides: Overrides = {}): HeatmapParams {
  return HeatmapParamsSchema.parse(overrides);
}

/**
 * A "hand-computable" model: the given leverage tiers with equal weights, no turnover,
 * entries at the typical price, no smoothing, no side tilt, no decay to speak of.
 */
export function buildHandParams(tiers: number[], overrides: Overrides = {}): HeatmapParams {
  return HeatmapParamsSchema.parse({
    turnoverPerHour: 0,
    entryRangeShare: 0,
    smoothingBps: 0,
    leverage: { tiers, weights: tiers.map(() => 1), halfLifeHours: tiers.map(() => 1e9) },
    split: { maxTilt: 0, closeTilt: 0 },
    ...overrides,
  });
}
