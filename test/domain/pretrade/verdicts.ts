import { expect } from 'vitest';
import type { PretradeVerdict, ReasonCode } from '../../../src/domain/pretrade/types.js';
import { clusterAt } from './factories.js';

/** Reading verdicts in the pre-trade tests. */

export const codes = (v: PretradeVerdict): ReasonCode[] => v.reasons.map((r) => r.code);
export const warningCodes = (v: PretradeVerdict): ReasonCode[] => v.warnings.map((r) => r.code);

/** Checks the response invariants every verdict must satisfy. */
export function expectConsistent(v: PretradeVerdict): void {
  if (v.decision === 'APPROVE') expect(v.approvedQuantity).toBe(v.requestedQuantity);
  if (v.decision === 'RESIZE') {
    expect(v.approvedQuantity).toBeGreaterThan(0);
    expect(v.approvedQuantity).toBeLessThan(v.requestedQuantity);
    expect(v.reasons.length).toBeGreaterThan(0);
  }
  if (v.decision === 'REJECT') {
    expect(v.approvedQuantity).toBe(0);
    expect(v.approvedNotional).toBe(0);
    expect(v.reasons.length).toBeGreaterThan(0);
  }
  expect(v.riskScore).toBeGreaterThanOrEqual(0);
  expect(v.riskScore).toBeLessThanOrEqual(100);
}

/** A 200-wide cluster zone centred on `price`. */
export function buildClusterAround(side: 'long' | 'short', price: number) {
  return clusterAt(side, 1, { priceLow: price - 100, priceHigh: price + 100, peakPrice: price });
}

/** A value as it comes back from Redis: JSON, so NaN and Infinity become null. */
export function viaJson<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}
