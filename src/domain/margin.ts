import { z } from 'zod';
import type { Side } from './market-data.js';
import type { OrderSide } from './pretrade/types.js';

/**
 * Maintenance margin and the liquidation price it implies, shared by the heatmap model
 * (where other traders' cohorts liquidate) and the gate (where the order's own position
 * would). One definition per symbol, in the policy (`maintenanceMargin`).
 */

/** One step of a venue's maintenance-margin table: `rate` applies to positions up to `upToNotionalUsd` (null: no upper bound). */
export const MaintenanceTierSchema = z
  .object({
    upToNotionalUsd: z.number().finite().positive().nullable().default(null),
    rate: z.number().finite().min(0).lt(0.5),
  })
  .strict();

/**
 * A symbol's maintenance margin as a venue tier table. A single unbounded tier today: the
 * venues' tables (rate rising with position size) fit this shape, but both readers still
 * take the one rate (see `maintenanceRate`), so more tiers are refused until they look the
 * rate up by position notional.
 */
export const MaintenanceMarginSchema = z
  .array(MaintenanceTierSchema)
  .length(1, 'one tier (an unbounded upToNotionalUsd) is supported today')
  .refine((tiers) => tiers[tiers.length - 1]?.upToNotionalUsd === null, 'the last tier must have no upper bound (upToNotionalUsd null)')
  .default([{ upToNotionalUsd: null, rate: 0.004 }]);

export type MaintenanceMargin = z.infer<typeof MaintenanceMarginSchema>;

/** 0.4%: Binance BTCUSDT's lowest tier. */
export const DEFAULT_MAINTENANCE_MARGIN: MaintenanceMargin = MaintenanceMarginSchema.parse(undefined);

/** The maintenance-margin rate (a fraction of notional) of a position on this symbol. */
export function maintenanceRate(mm: MaintenanceMargin): number {
  return mm[0]?.rate ?? 0;
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
