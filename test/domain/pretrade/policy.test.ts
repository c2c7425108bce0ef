import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_OF_DAY_HOURLY_UTC, PretradePolicySchema } from '../../../src/domain/pretrade/policy.js';

describe('PretradePolicySchema', () => {
  it('when parsed from {}, then every field has its documented default', () => {
    const p = PretradePolicySchema.parse({});
    expect(p).toMatchObject({
      maxHeatmapAgeMs: null,
      maxNotionalUsd: 1_000_000,
      maxNotionalAction: 'reject',
      noTradeBufferBps: 30,
      maxSlippageBps: 15,
      noBookMaxNotionalUsd: 25_000,
      maxBookMarkDeviationBps: 100,
      priceCollarBps: 1_000,
      timeOfDayWeekendFactor: 0.8,
    });
    expect(p.timeOfDayHourlyUtc).toEqual([...DEFAULT_TIME_OF_DAY_HOURLY_UTC]);
  });

  it('when the policy is serialised to JSON and parsed back, then it is unchanged', () => {
    const p = PretradePolicySchema.parse({ maxNotionalUsd: 250_000 });
    expect(PretradePolicySchema.parse(JSON.parse(JSON.stringify(p)))).toEqual(p);
  });

  it('when a default table is parsed twice, then the two policies do not share the array', () => {
    const a = PretradePolicySchema.parse({});
    const b = PretradePolicySchema.parse({});
    expect(a.timeOfDayHourlyUtc).not.toBe(b.timeOfDayHourlyUtc);
  });

  it.each([
    { input: { noSuchKey: 1 }, path: '' },
    { input: { timeOfDayHourlyUtc: [1, 1] }, path: 'timeOfDayHourlyUtc' },
    { input: { timeOfDayHourlyUtc: Array.from({ length: 24 }, () => 1.2) }, path: 'timeOfDayHourlyUtc.0' },
    { input: { timeOfDayWeekendFactor: 0 }, path: 'timeOfDayWeekendFactor' },
    { input: { maxNotionalUsd: -1 }, path: 'maxNotionalUsd' },
    { input: { maxNotionalAction: 'warn' }, path: 'maxNotionalAction' },
    { input: { maxBookMarkDeviationBps: 0 }, path: 'maxBookMarkDeviationBps' },
    { input: { proximityMinFactor: 1.5 }, path: 'proximityMinFactor' },
    { input: { minNotionalUsd: 2_000_000 }, path: 'minNotionalUsd' },
    { input: { quantityStep: 0.01, minQuantity: 0.001 }, path: 'quantityStep' },
  ])('when given $input, then it fails at "$path"', ({ input, path }) => {
    const r = PretradePolicySchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
