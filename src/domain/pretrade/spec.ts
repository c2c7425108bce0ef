import type { MarketSpec } from '../market-data.js';
import { finitePositive, isFiniteNumber, roundToStep } from './numbers.js';
import type { PretradePolicy } from './policy.js';

/** The trading rules one check applies: the policy's value, else the venues' (market spec), else a fallback. */
export interface EffectiveSpec {
  /** Null: no tick known; prices in messages keep 8 significant digits. */
  tickSize: number | null;
  quantityStep: number;
  minQuantity: number;
  /** Null: no maximum. */
  maxQuantity: number | null;
  minNotionalUsd: number;
  /** Null: only the 1 / maintenance margin bound. */
  maxLeverage: number | null;
}

export const FALLBACK_QUANTITY_STEP = 0.001;
export const FALLBACK_MIN_QUANTITY = 0.001;
export const FALLBACK_MIN_NOTIONAL_USD = 5;

/** A venue value is used only when it is a finite positive number (a broken spec never loosens a rule: it falls back). */
const venue = (x: number | null | undefined): number | null => (finitePositive(x) ? x : null);
const venueMin = (x: number | null | undefined): number | null => (isFiniteNumber(x) && x >= 0 ? x : null);

export function effectiveSpec(policy: PretradePolicy, spec: MarketSpec | null | undefined): EffectiveSpec {
  const s = spec ?? null;
  return {
    tickSize: policy.tickSize ?? venue(s?.tickSize),
    quantityStep: policy.quantityStep ?? venue(s?.quantityStep) ?? FALLBACK_QUANTITY_STEP,
    minQuantity: policy.minQuantity ?? venueMin(s?.minQuantity) ?? FALLBACK_MIN_QUANTITY,
    maxQuantity: policy.maxQuantity ?? venue(s?.maxQuantity),
    minNotionalUsd: policy.minNotionalUsd ?? venueMin(s?.minNotionalUsd) ?? FALLBACK_MIN_NOTIONAL_USD,
    maxLeverage: policy.maxLeverage ?? (finitePositive(s?.maxLeverage) && (s?.maxLeverage ?? 0) >= 1 ? (s?.maxLeverage ?? null) : null),
  };
}

/** A price as shown in messages and reasons: rounded to the tick, else to 8 significant digits. */
export function roundPrice(price: number, tick: number | null): number {
  if (!Number.isFinite(price)) return price;
  return tick !== null ? roundToStep(price, tick) : Number(price.toPrecision(8));
}
