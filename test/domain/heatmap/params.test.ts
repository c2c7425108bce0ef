import { describe, expect, it } from 'vitest';
import { createHeatmapModel, HeatmapParamsSchema } from '../../../src/domain/heatmap/index.js';
import { cohortClasses, leverageTierProblems } from '../../../src/domain/heatmap/params.js';
import { BINANCE_MAINTENANCE_MARGIN, MaintenanceMarginSchema } from '../../../src/domain/margin.js';
import { buildMaintenanceMargin } from '../pretrade/factories.js';

describe('HeatmapParamsSchema', () => {
  it('when parsing an empty object, then every documented default is filled in', () => {
    const p = HeatmapParamsSchema.parse({});
    expect(p.rangePct).toBe(0.15);
    expect(p.binBps).toBe(10);
    expect(p.turnoverPerHour).toBe(0.1);
    expect(p.leverage.tiers).toEqual([5, 10, 25, 50, 100]);
    expect(p.leverage.weights).toHaveLength(5);
    expect(p.cluster.majorMinShare).toBe(0.05);
    expect(p.crowding.windowHours).toBe(24);
  });

  it('when a nested object is partly overridden, then its other fields keep their defaults', () => {
    const p = HeatmapParamsSchema.parse({ split: { maxTilt: 0.5 }, turnoverPerHour: 0.2 });
    expect(p.split.maxTilt).toBe(0.5);
    expect(p.split.candleWeight).toBe(HeatmapParamsSchema.parse({}).split.candleWeight);
    expect(p.turnoverPerHour).toBe(0.2);
  });

  it('when an unknown key appears at any level, then parsing fails', () => {
    expect(HeatmapParamsSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(HeatmapParamsSchema.safeParse({ split: { bogus: 1 } }).success).toBe(false);
  });

  it('when the leverage arrays differ in length, then parsing fails with a path', () => {
    const r = HeatmapParamsSchema.safeParse({ leverage: { tiers: [10, 20], weights: [1] } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.some((i) => i.path[0] === 'leverage')).toBe(true);
  });
});

describe('leverage tiers against the maintenance margin', () => {
  it('when a tier leaves no margin above the rate, then it is named and the model refuses the params', () => {
    const p = HeatmapParamsSchema.parse({ leverage: { tiers: [5, 10, 25, 50, 100] } });
    expect(leverageTierProblems(p, buildMaintenanceMargin(0.02)).map(([i]) => i)).toEqual([3, 4]);
    expect(() => createHeatmapModel('BTC', p, buildMaintenanceMargin(0.02))).toThrow(/leverage\.tiers\.3/);
  });

  it('when maxLeverage caps the tiers, then a tier above the cap is accepted as long as the cap leaves margin', () => {
    expect(leverageTierProblems(HeatmapParamsSchema.parse({ maxLeverage: 20 }), buildMaintenanceMargin(0.02))).toEqual([]);
  });
});

describe('cohort classes (leverage tier × assumed position size)', () => {
  const btc = BINANCE_MAINTENANCE_MARGIN.BTCUSDT ?? buildMaintenanceMargin();

  it('when the default one size class reads the BTCUSDT table, then the classes are the leverage tiers at 0.4% with their own weights', () => {
    const classes = cohortClasses(HeatmapParamsSchema.parse({}), btc);
    expect(classes.map((c) => c.leverage)).toEqual([5, 10, 25, 50, 100]);
    expect(classes.every((c) => c.rate === 0.004)).toBe(true);
    expect(classes.map((c) => c.weight)).toEqual([0.1, 0.25, 0.25, 0.25, 0.15]);
  });

  it('when two sizes share the tiers, then every tier is split by the shares, the larger size at its own rate and leverage cap', () => {
    const p = HeatmapParamsSchema.parse({ positionSizes: { notionalUsd: [10_000, 1_000_000], shares: [3, 1] } });
    const classes = cohortClasses(p, btc);
    expect(classes).toHaveLength(10);
    expect(classes.reduce((a, c) => a + c.weight, 0)).toBeCloseTo(1, 12);
    const big100 = classes[9];
    expect(big100?.leverage).toBe(50);
    expect(big100?.rate).toBeCloseTo(0.01 - 1_300 / 1_000_000, 12);
    expect(big100?.weight).toBeCloseTo(0.15 * 0.25, 12);
  });

  it('when a size would make a leverage tier liquidatable as it opens, then that tier is named with the size', () => {
    // A table with no leverage caps: 10M USD pays about 5%, which 25x and above do not cover.
    const steep = MaintenanceMarginSchema.parse([{ upToNotionalUsd: 50_000, rate: 0.004 }, { rate: 0.05 }]);
    const p = HeatmapParamsSchema.parse({ positionSizes: { notionalUsd: [10_000, 10_000_000], shares: [1, 1] } });
    const problems = leverageTierProblems(p, steep);
    expect(problems.map(([i]) => i)).toEqual([2, 3, 4]);
    expect(problems[0]?.[1]).toMatch(/at a position of 10000000 USD/);
    expect(leverageTierProblems(HeatmapParamsSchema.parse({}), steep)).toEqual([]);
  });

  it('when sizes and shares differ in length or no share is positive, then parsing fails naming positionSizes', () => {
    const r = HeatmapParamsSchema.safeParse({ positionSizes: { notionalUsd: [1, 2], shares: [1] } });
    expect(r.error?.issues.some((i) => i.path[0] === 'positionSizes')).toBe(true);
    const z = HeatmapParamsSchema.safeParse({ positionSizes: { notionalUsd: [1], shares: [0] } });
    expect(z.error?.issues.some((i) => i.path.join('.') === 'positionSizes.shares')).toBe(true);
  });
});
