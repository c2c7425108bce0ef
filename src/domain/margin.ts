import { z } from 'zod';
import type { Side } from './market-data.js';
import type { OrderSide } from './pretrade/types.js';

/**
 * Maintenance margin and the liquidation price it implies, shared by the heatmap model
 * (where other traders' cohorts liquidate) and the gate (where the order's own position
 * would). One definition per symbol, in the policy (`maintenanceMargin`).
 */

/**
 * One step of a venue's maintenance-margin table: `rate` applies to the part of a position's
 * notional up to `upToNotionalUsd` (null: no upper bound) above the previous step's bound.
 */
export const MaintenanceTierSchema = z
  .object({
    upToNotionalUsd: z.number().finite().positive().nullable().default(null),
    rate: z.number().finite().min(0).max(0.5),
    /** The highest leverage the venue allows a position of this size (Binance's `initialLeverage`); null: the table does not say. */
    maxLeverage: z.number().finite().min(1).nullable().default(null),
  })
  .strict();

/**
 * A symbol's maintenance margin as a venue tier table (Binance's "leverage and margin
 * brackets"): bounds strictly rising, rates never falling, the last tier unbounded. A position
 * of notional N in tier i holds `N × rate_i − amount_i`, where the maintenance amount
 * `amount_i` is what makes the requirement continuous across the bounds (Binance publishes it
 * as `cum`; it is derived here, so it cannot disagree with the table). See
 * `maintenanceRateAt`.
 */
export const MaintenanceMarginSchema = z
  .array(MaintenanceTierSchema)
  .min(1)
  .max(32)
  .superRefine((tiers, ctx) => {
    tiers.forEach((t, i) => {
      const last = i === tiers.length - 1;
      if (last && t.upToNotionalUsd !== null) {
        ctx.addIssue({ code: 'custom', path: [i, 'upToNotionalUsd'], message: 'the last tier must have no upper bound (upToNotionalUsd null)' });
      }
      if (!last && t.upToNotionalUsd === null) {
        ctx.addIssue({ code: 'custom', path: [i, 'upToNotionalUsd'], message: 'only the last tier may be unbounded' });
      }
      const prev = tiers[i - 1];
      if (prev === undefined) return;
      if (prev.upToNotionalUsd !== null && t.upToNotionalUsd !== null && !(t.upToNotionalUsd > prev.upToNotionalUsd)) {
        ctx.addIssue({ code: 'custom', path: [i, 'upToNotionalUsd'], message: `must be above the previous tier's ${prev.upToNotionalUsd}` });
      }
      if (t.rate < prev.rate) {
        ctx.addIssue({ code: 'custom', path: [i, 'rate'], message: `must not be below the previous tier's ${prev.rate} (a larger position never needs less margin)` });
      }
      // maxLeverageAt reads null as no cap: a larger position must never be allowed more leverage.
      if (prev.maxLeverage !== null && (t.maxLeverage === null || t.maxLeverage > prev.maxLeverage)) {
        ctx.addIssue({ code: 'custom', path: [i, 'maxLeverage'], message: `must be set and not above the previous tier's ${prev.maxLeverage} (a larger position is never allowed more leverage)` });
      }
    });
  })
  .default([{ upToNotionalUsd: null, rate: 0.004, maxLeverage: null }]);

export type MaintenanceMargin = z.infer<typeof MaintenanceMarginSchema>;

/** 0.4%, one tier: Binance BTCUSDT's lowest bracket; the default for a symbol with no table of its own. */
export const DEFAULT_MAINTENANCE_MARGIN: MaintenanceMargin = MaintenanceMarginSchema.parse(undefined);

/**
 * Binance USDⓈ-M "leverage and margin brackets" (GET /fapi/v1/leverageBracket: notionalCap,
 * maintMarginRatio; the derived amounts equal its `cum`). BTCUSDT: a recorded response in
 * github.com/boolean404/heikin-ashi-trading-bot `json/fapiPrivate_get_leverage_bracket.py`
 * (its last bracket, 300–500M at 50%, is the unbounded tier here). ETHUSDT: the table in
 * gist.github.com/crackcomm/e29582030d9eeac6c6124a7503cd0ac2 (2021; Binance revises brackets,
 * so a policy should carry the current one). The default for those symbols when the policy
 * names no `maintenanceMargin` (docs/model.md).
 */
export const BINANCE_MAINTENANCE_MARGIN: Readonly<Record<string, MaintenanceMargin>> = {
  BTCUSDT: MaintenanceMarginSchema.parse([
    { upToNotionalUsd: 50_000, rate: 0.004, maxLeverage: 125 },
    { upToNotionalUsd: 250_000, rate: 0.005, maxLeverage: 100 },
    { upToNotionalUsd: 3_000_000, rate: 0.01, maxLeverage: 50 },
    { upToNotionalUsd: 20_000_000, rate: 0.025, maxLeverage: 20 },
    { upToNotionalUsd: 40_000_000, rate: 0.05, maxLeverage: 10 },
    { upToNotionalUsd: 100_000_000, rate: 0.1, maxLeverage: 5 },
    { upToNotionalUsd: 120_000_000, rate: 0.125, maxLeverage: 4 },
    { upToNotionalUsd: 200_000_000, rate: 0.15, maxLeverage: 3 },
    { upToNotionalUsd: 300_000_000, rate: 0.25, maxLeverage: 2 },
    { upToNotionalUsd: null, rate: 0.5, maxLeverage: 1 },
  ]),
  ETHUSDT: MaintenanceMarginSchema.parse([
    { upToNotionalUsd: 10_000, rate: 0.005 },
    { upToNotionalUsd: 100_000, rate: 0.0065 },
    { upToNotionalUsd: 500_000, rate: 0.01 },
    { upToNotionalUsd: 1_000_000, rate: 0.02 },
    { upToNotionalUsd: 2_000_000, rate: 0.05 },
    { upToNotionalUsd: 5_000_000, rate: 0.1 },
    { upToNotionalUsd: 10_000_000, rate: 0.125 },
    { upToNotionalUsd: 20_000_000, rate: 0.15 },
    { upToNotionalUsd: null, rate: 0.25 },
  ]),
};

/** The highest leverage the table allows a position of `notionalUsd` (Infinity when its tier does not say). */
export function maxLeverageAt(mm: MaintenanceMargin, notionalUsd: number): number {
  const n = Number.isFinite(notionalUsd) && notionalUsd > 0 ? notionalUsd : 0;
  const tier = mm.find((t) => t.upToNotionalUsd === null || n <= t.upToNotionalUsd);
  return tier?.maxLeverage ?? Infinity;
}

/** The symbol's default table: Binance's for BTCUSDT and ETHUSDT, else one tier at 0.4%. */
export function defaultMaintenanceMargin(symbol: string): MaintenanceMargin {
  return BINANCE_MAINTENANCE_MARGIN[symbol] ?? DEFAULT_MAINTENANCE_MARGIN;
}

/** The lowest tier's rate: what a small position pays (and the highest leverage the table allows at all is below 1 / it). */
export function maintenanceRate(mm: MaintenanceMargin): number {
  return mm[0]?.rate ?? 0;
}

/**
 * The maintenance margin of a position of `notionalUsd`, as a fraction of that notional:
 * `rate_i − amount_i / N` in the tier holding N (see the schema). Continuous and never
 * falling in N, so a larger position's liquidation price is never farther from its entry.
 * A notional that is not a positive finite number reads as the smallest position.
 */
export function maintenanceRateAt(mm: MaintenanceMargin, notionalUsd: number): number {
  const n = Number.isFinite(notionalUsd) && notionalUsd > 0 ? notionalUsd : 0;
  const amounts = maintenanceAmounts(mm);
  const i = mm.findIndex((t) => t.upToNotionalUsd === null || n <= t.upToNotionalUsd);
  const tier = mm[i];
  if (tier === undefined) return 0;
  return n > 0 ? tier.rate - (amounts[i] ?? 0) / n : tier.rate;
}

/** The maintenance amount of each tier (Binance's `cum`): what continuity across the bounds requires. */
export function maintenanceAmounts(mm: MaintenanceMargin): number[] {
  let amount = 0;
  let prevBound = 0;
  let prevRate = mm[0]?.rate ?? 0;
  return mm.map((t) => {
    amount += prevBound * (t.rate - prevRate);
    prevBound = t.upToNotionalUsd ?? prevBound;
    prevRate = t.rate;
    return amount;
  });
}

/** How far liquidation lies from entry, as a fraction of entry: 1/L − mmr (first-order, isolated margin). */
export function liquidationDistance(leverage: number, rate: number): number {
  return 1 / leverage - rate;
}

/**
 * Liquidation price of a `side` position opened at `entry` with the given liquidation
 * distance (see `liquidationDistance`): below entry for a long, above for a short.
 */
export function liquidationPrice(side: Side, entry: number, distance: number): number {
  return side === 'long' ? entry * (1 - distance) : entry * (1 + distance);
}

/** Leverage at which a position is liquidatable as it opens (Infinity with no maintenance margin). */
export function liquidatableAtLeverage(rate: number): number {
  return rate > 0 ? 1 / rate : Infinity;
}

/** The position an order opens or adds to: a buy is long, a sell short (a liquidation order's side is the opposite). */
export function positionSide(side: OrderSide): Side {
  return side === 'buy' ? 'long' : 'short';
}
