import type { MarketSpec } from '../domain/market-data.js';

/**
 * Venue trading rules: cleaning one venue's figures and merging several venues' into the
 * one spec a snapshot carries (strictest venue wins).
 */

export const EMPTY_SPEC: MarketSpec = {
  tickSize: null,
  quantityStep: null,
  minQuantity: null,
  maxQuantity: null,
  minNotionalUsd: null,
  maxLeverage: null,
};

/**
 * A published rule as a finite positive number or null. Rounded to 12 significant digits:
 * converting contracts to base units (0.01 × 0.01) leaves float dust (0.00010000000000000002)
 * that would make a quantity on the venue's own step look off-step.
 */
export function specNumber(x: unknown): number | null {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) return null;
  return Number(x.toPrecision(12));
}

type Pick = (a: number, b: number) => number;
const STRICTEST: Record<keyof MarketSpec, Pick> = {
  tickSize: Math.max,
  quantityStep: Math.max,
  minQuantity: Math.max,
  maxQuantity: Math.min,
  minNotionalUsd: Math.max,
  maxLeverage: Math.min,
};

/**
 * One spec over several venues, field by field, the strictest published value winning:
 * the largest tick, step, minimum quantity and minimum notional, the smallest maximum
 * quantity and leverage, so an order that satisfies it satisfies every venue (ticks and
 * steps are powers of ten on these venues, so the largest is a multiple of the others). A
 * field no venue publishes is null; null when no venue publishes a spec at all.
 */
export function mergeSpecs(specs: readonly (MarketSpec | null | undefined)[]): MarketSpec | null {
  const published = specs.filter((s): s is MarketSpec => s !== null && s !== undefined);
  if (published.length === 0) return null;
  const out: MarketSpec = { ...EMPTY_SPEC };
  for (const key of Object.keys(STRICTEST) as (keyof MarketSpec)[]) {
    for (const s of published) {
      const v = specNumber(s[key]);
      if (v === null) continue;
      const cur = out[key];
      out[key] = cur === null ? v : STRICTEST[key](cur, v);
    }
  }
  return out;
}
