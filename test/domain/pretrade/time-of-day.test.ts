import { describe, expect, it } from 'vitest';
import { timeOfDayMultiplier, utcHourAndWeekday } from '../../../src/domain/pretrade/time-of-day.js';
import { buildPolicy } from './factories.js';

const at = (iso: string): number => Date.parse(iso);

describe('timeOfDayMultiplier', () => {
  const policy = buildPolicy();

  it.each([
    { when: '2026-11-24T11:00:00Z', expected: 1, label: 'weekday 11:00 UTC (peak)' },
    { when: '2026-11-24T11:59:59Z', expected: 1, label: 'weekday 11:59 UTC (same hour)' },
    { when: '2026-11-24T21:00:00Z', expected: 0.61, label: 'weekday 21:00 UTC (trough)' },
    { when: '2026-11-24T16:30:00Z', expected: 0.81, label: 'weekday 16:30 UTC' },
    { when: '2026-11-28T11:00:00Z', expected: 0.8, label: 'Saturday 11:00 UTC' },
    { when: '2026-11-29T21:00:00Z', expected: 0.61 * 0.8, label: 'Sunday 21:00 UTC' },
    { when: '2026-11-30T00:00:00Z', expected: 0.65, label: 'Monday 00:00 UTC (weekend over)' },
  ])('when it is $label, then the multiplier is $expected', ({ when, expected }) => {
    expect(timeOfDayMultiplier(policy, at(when))).toBeCloseTo(expected, 12);
  });

  it('when the default table is read, then 11:00 is the unique maximum and 21:00 the minimum', () => {
    const t = policy.timeOfDayHourlyUtc;
    expect(Math.max(...t)).toBe(t[11]);
    expect(t.filter((x) => x === 1)).toHaveLength(1);
    expect(Math.min(...t)).toBe(t[21]);
  });

  it('when a policy overrides the table and weekend factor, then they are used', () => {
    const flat = buildPolicy({ timeOfDayHourlyUtc: Array.from({ length: 24 }, () => 0.5), timeOfDayWeekendFactor: 0.5 });
    expect(timeOfDayMultiplier(flat, at('2026-11-24T11:00:00Z'))).toBe(0.5);
    expect(timeOfDayMultiplier(flat, at('2026-11-28T11:00:00Z'))).toBe(0.25);
  });
});

describe('utcHourAndWeekday', () => {
  it.each([
    '2026-11-24T11:30:00Z',
    '2026-11-28T23:59:59.999Z',
    '2026-11-29T00:00:00Z',
    '1970-01-01T00:00:00Z',
    '1969-12-31T23:00:00Z',
    '2024-02-29T12:00:00Z',
  ])('when the instant is %s, then it agrees with Date', (iso) => {
    const ms = at(iso);
    const d = new Date(ms);
    expect(utcHourAndWeekday(ms)).toEqual({ hour: d.getUTCHours(), weekday: d.getUTCDay() });
  });
});
