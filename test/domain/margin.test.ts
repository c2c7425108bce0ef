import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BINANCE_MAINTENANCE_MARGIN,
  DEFAULT_MAINTENANCE_MARGIN,
  defaultMaintenanceMargin,
  maintenanceAmounts,
  maintenanceRateAt,
  maxLeverageAt,
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

const BTC = BINANCE_MAINTENANCE_MARGIN.BTCUSDT ?? DEFAULT_MAINTENANCE_MARGIN;

function buildTiers(...tiers: [number | null, number][]) {
  return MaintenanceMarginSchema.parse(tiers.map(([upToNotionalUsd, rate]) => ({ upToNotionalUsd, rate })));
}

describe('maintenance margin', () => {
  it('when nothing is configured, then it is one unbounded tier at 0.4% whatever the size', () => {
    expect(DEFAULT_MAINTENANCE_MARGIN).toEqual([{ upToNotionalUsd: null, rate: 0.004, maxLeverage: null }]);
    expect(maintenanceRate(DEFAULT_MAINTENANCE_MARGIN)).toBe(0.004);
    expect(maintenanceRateAt(DEFAULT_MAINTENANCE_MARGIN, 1e9)).toBe(0.004);
    expect(maxLeverageAt(DEFAULT_MAINTENANCE_MARGIN, 1e9)).toBe(Infinity);
  });

  it('when a symbol is BTCUSDT or ETHUSDT, then its default is Binance\'s bracket table; any other symbol gets 0.4%', () => {
    expect(defaultMaintenanceMargin('BTCUSDT')).toBe(BTC);
    expect(defaultMaintenanceMargin('ETHUSDT')[0]?.rate).toBe(0.005);
    expect(defaultMaintenanceMargin('SOLUSDT')).toBe(DEFAULT_MAINTENANCE_MARGIN);
  });

  it('when the amounts are derived from the BTCUSDT table, then they equal the cum Binance publishes', () => {
    expect(maintenanceAmounts(BTC)).toEqual([0, 50, 1_300, 46_300, 546_300, 2_546_300, 5_046_300, 8_046_300, 28_046_300, 103_046_300]);
  });

  it('when the position is looked up by notional, then the rate is the tier rate less the amount over the notional', () => {
    expect(maintenanceRateAt(BTC, 10_000)).toBe(0.004);
    expect(maintenanceRateAt(BTC, 50_000)).toBeCloseTo(0.004, 12);
    expect(maintenanceRateAt(BTC, 100_000)).toBeCloseTo(0.005 - 50 / 100_000, 12);
    expect(maintenanceRateAt(BTC, 1_000_000)).toBeCloseTo(0.01 - 1_300 / 1_000_000, 12);
    expect(maxLeverageAt(BTC, 10_000)).toBe(125);
    expect(maxLeverageAt(BTC, 100_000)).toBe(100);
    expect(maxLeverageAt(BTC, 1_000_000)).toBe(50);
  });

  it('when the notional is missing, zero or not finite, then it reads as the smallest position', () => {
    expect(maintenanceRateAt(BTC, 0)).toBe(0.004);
    expect(maintenanceRateAt(BTC, Number.NaN)).toBe(0.004);
    expect(maintenanceRateAt(BTC, -5)).toBe(0.004);
  });

  it('when a 20x long of 10k and one of 2M open at the same price, then the larger liquidates nearer the entry', () => {
    const small = liquidationPrice('long', 100_000, liquidationDistance(20, maintenanceRateAt(BTC, 10_000)));
    const large = liquidationPrice('long', 100_000, liquidationDistance(20, maintenanceRateAt(BTC, 2_000_000)));
    expect(small).toBeCloseTo(95_400, 6);
    expect(large).toBeGreaterThan(small);
    expect(large).toBeCloseTo(100_000 * (1 - 0.05 + (0.01 - 1_300 / 2_000_000)), 6);
  });

  it('when any valid table is read at two sizes, then the larger position never gets a farther liquidation price (either side)', () => {
    const table = fc
      .array(fc.record({ step: fc.double({ min: 1, max: 1e8, noNaN: true }), rise: fc.double({ min: 0, max: 0.05, noNaN: true }) }), { minLength: 1, maxLength: 8 })
      .map((steps) => {
        let bound = 0;
        let rate = 0.002;
        return MaintenanceMarginSchema.parse(
          steps.map((s, i) => {
            bound += s.step;
            rate = Math.min(0.5, rate + s.rise);
            return { upToNotionalUsd: i === steps.length - 1 ? null : bound, rate };
          }),
        );
      });
    const size = fc.double({ min: 0, max: 1e9, noNaN: true });
    fc.assert(
      fc.property(table, size, size, fc.constantFrom('long' as const, 'short' as const), fc.integer({ min: 1, max: 100 }), (mm, a, b, side, lev) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        const entry = 100_000;
        const liqSmall = liquidationPrice(side, entry, liquidationDistance(lev, maintenanceRateAt(mm, small)));
        const liqLarge = liquidationPrice(side, entry, liquidationDistance(lev, maintenanceRateAt(mm, large)));
        // Signed: a long's liquidation price never lower, a short's never higher (past the entry counts as nearer still).
        const tol = 1e-9 * entry;
        return side === 'long' ? liqLarge >= liqSmall - tol : liqLarge <= liqSmall + tol;
      }),
    );
  });

  it('when the tiers are out of order, a middle tier is unbounded, the last is bounded, a rate falls or a larger tier allows more leverage, then the table is refused naming the tier', () => {
    const refused = (t: unknown, path: string) => {
      const r = MaintenanceMarginSchema.safeParse(t);
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
    };
    refused([{ upToNotionalUsd: 50_000, rate: 0.004 }], '0.upToNotionalUsd');
    refused([{ upToNotionalUsd: 50_000, rate: 0.004 }, { upToNotionalUsd: 10_000, rate: 0.005 }, { rate: 0.01 }], '1.upToNotionalUsd');
    refused([{ rate: 0.004 }, { rate: 0.005 }], '0.upToNotionalUsd');
    refused([{ upToNotionalUsd: 50_000, rate: 0.005 }, { rate: 0.004 }], '1.rate');
    // A larger position never gets more leverage: a rising maxLeverage, or a tier that stops saying after one that did (no cap at all), is refused.
    refused([{ upToNotionalUsd: 50_000, rate: 0.004, maxLeverage: 20 }, { rate: 0.005, maxLeverage: 125 }], '1.maxLeverage');
    refused([{ upToNotionalUsd: 50_000, rate: 0.004, maxLeverage: 125 }, { rate: 0.005 }], '1.maxLeverage');
    expect(MaintenanceMarginSchema.safeParse([{ upToNotionalUsd: 50_000, rate: 0.004 }, { rate: 0.005, maxLeverage: 50 }]).success).toBe(true);
    expect(MaintenanceMarginSchema.safeParse([{ rate: 0.6 }]).success).toBe(false);
    expect(buildTiers([50_000, 0.004], [null, 0.005])).toHaveLength(2);
  });
});
