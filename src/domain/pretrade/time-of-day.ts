import type { PretradePolicy } from './policy.js';

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
/** 1970-01-01 was a Thursday (getUTCDay() = 4). */
const EPOCH_WEEKDAY = 4;

/** UTC hour 0..23 and weekday 0..6 (0 = Sunday) of an epoch-ms instant, without allocating a Date. */
export function utcHourAndWeekday(now: number): { hour: number; weekday: number } {
  const day = Math.floor(now / MS_PER_DAY);
  const msOfDay = now - day * MS_PER_DAY;
  return { hour: Math.floor(msOfDay / MS_PER_HOUR), weekday: (((day + EPOCH_WEEKDAY) % 7) + 7) % 7 };
}

/**
 * Liquidity multiplier in (0, 1] for this instant: the policy's weekday hour table, times the
 * weekend factor on Saturday and Sunday (UTC). A step function by whole hour.
 */
export function timeOfDayMultiplier(policy: PretradePolicy, now: number): number {
  const day = Math.floor(now / MS_PER_DAY);
  const hour = Math.floor((now - day * MS_PER_DAY) / MS_PER_HOUR);
  const weekday = (((day + EPOCH_WEEKDAY) % 7) + 7) % 7;
  // The schema guarantees 24 entries; 1 only guards a hand-built policy object.
  const base = policy.timeOfDayHourlyUtc[hour] ?? 1;
  return weekday === 0 || weekday === 6 ? base * policy.timeOfDayWeekendFactor : base;
}
