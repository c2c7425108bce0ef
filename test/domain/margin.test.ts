import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAINTENANCE_MARGIN,
  liquidatableAtLeverage,
  liquidationDistance,
  liquidationPrice,
  maintenanceRate,
  MaintenanceMarginSchema,
  positionSide,
} from '../../src/domain/margin.js';

describe('liquidation price', () => {
  it('when a position opens at 20x with a 0.4% maintenance margin, then a long liquidates 4.6% below entry and a short 4.6% above', () => {
    const d = liquidationDistance(20, 0.004);
    expect(liquidationPrice('long', 100_000, d)).toBeCloseTo(95_400, 6);
    expect(liquidationPrice('short', 100_000, d)).toBeCloseTo(104_600, 6);
  });

  it('when an order is a buy, then the position it opens is long (a sell: short)', () => {
    expect(positionSide('buy')).toBe('long');
    expect(positionSide('sell')).toBe('short');
  });

  it('when the maintenance margin is 0.4%, then 250x is liquidatable as it opens; with none, no leverage is', () => {
    expect(liquidatableAtLeverage(0.004)).toBeCloseTo(250, 9);
    expect(liquidatableAtLeverage(0)).toBe(Infinity);
  });
});

describe('maintenance margin', () => {
  it('when nothing is configured, then it is one unbounded tier at 0.4%', () => {
    expect(DEFAULT_MAINTENANCE_MARGIN).toEqual([{ upToNotionalUsd: null, rate: 0.004 }]);
    expect(maintenanceRate(DEFAULT_MAINTENANCE_MARGIN)).toBe(0.004);
  });

  it('when more than one tier or a bounded last tier is given, then it is refused (the readers take one rate today)', () => {
    expect(MaintenanceMarginSchema.safeParse([{ upToNotionalUsd: 50_000, rate: 0.004 }, { rate: 0.005 }]).success).toBe(false);
    expect(MaintenanceMarginSchema.safeParse([{ upToNotionalUsd: 50_000, rate: 0.004 }]).success).toBe(false);
    expect(MaintenanceMarginSchema.safeParse([{ rate: 0.5 }]).success).toBe(false);
  });
});
