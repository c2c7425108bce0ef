import { describe, expect, it } from 'vitest';
import { createHeatmapModel, HeatmapParamsSchema } from '../../../src/domain/heatmap/index.js';
import { leverageTierProblems } from '../../../src/domain/heatmap/params.js';
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
    expect(leverageTierProblems(p, 0.02).map(([i]) => i)).toEqual([3, 4]);
    expect(() => createHeatmapModel('BTC', p, buildMaintenanceMargin(0.02))).toThrow(/leverage\.tiers\.3/);
  });

  it('when maxLeverage caps the tiers, then a tier above the cap is accepted as long as the cap leaves margin', () => {
    expect(leverageTierProblems(HeatmapParamsSchema.parse({ maxLeverage: 20 }), 0.02)).toEqual([]);
  });
});
