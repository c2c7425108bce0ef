import { describe, expect, it } from 'vitest';
import { approvalUse, reserve } from '../../../src/domain/exposure/limits.js';
import { ExposurePolicySchema, limitsFor } from '../../../src/domain/exposure/policy.js';
import { NOW, buildAccount, buildContext, buildLimits, buildOrder } from './factories.js';

/** A window of 60 s counted in 6 s buckets; NOW sits on a bucket boundary. */
const WINDOW = 60_000;
const tradingLimits = (overrides: Parameters<typeof buildLimits>[0] = {}) =>
  buildLimits({ maxApprovedOrders: 3, maxApprovedNotionalUsd: null, approvalWindowMs: WINDOW, ...overrides });

describe('trading limits (approved orders and notional per account per window)', () => {
  it('when the account had its most orders approved, then the next risk-adding order is rejected with the time until one leaves the window', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: tradingLimits() });
    for (let i = 0; i < 3; i++) expect(reserve(state, buildOrder({ quantity: 0.1 }), { ...ctx, now: NOW + i * 10_000 }).quantity).toBe(0.1);
    const out = reserve(state, buildOrder({ quantity: 0.1 }), { ...ctx, now: NOW + 30_000 });
    expect(out.quantity).toBe(0);
    expect(out.reasons).toEqual([expect.objectContaining({ code: 'ACCOUNT_ORDER_RATE_LIMIT', limit: 3, observed: 3 })]);
    // The first approval's bucket [NOW, NOW+6s) counts until its end leaves the window: NOW + 66 s.
    expect(out.retryAfterMs).toBe(36_000);
    expect(state.reservations).toHaveLength(3);
  });

  it('when the retry time has passed, then the order is approved again', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: tradingLimits() });
    for (let i = 0; i < 3; i++) reserve(state, buildOrder({ quantity: 0.1 }), { ...ctx, now: NOW + i * 10_000 });
    const refused = reserve(state, buildOrder({ quantity: 0.1 }), { ...ctx, now: NOW + 30_000 });
    expect(reserve(state, buildOrder({ quantity: 0.1 }), { ...ctx, now: NOW + 30_000 + refused.retryAfterMs! - 1 }).quantity).toBe(0);
    const again = reserve(state, buildOrder({ quantity: 0.1 }), { ...ctx, now: NOW + 30_000 + refused.retryAfterMs! });
    expect(again.quantity).toBe(0.1);
    expect(again.retryAfterMs).toBeUndefined();
  });

  it('when approvals are spread over any window length, then no window ever holds more than the limit (sliding, not fixed)', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: tradingLimits({ maxApprovedOrders: 5 }), reservationTtlMs: 1_000 });
    const approvedAt: number[] = [];
    for (let t = 0; t < 5 * WINDOW; t += 1_700) {
      if (reserve(state, buildOrder({ quantity: 0.01 }), { ...ctx, now: NOW + t }).quantity > 0) approvedAt.push(NOW + t);
    }
    expect(approvedAt.length).toBeGreaterThan(10);
    for (const start of approvedAt) expect(approvedAt.filter((t) => t >= start && t < start + WINDOW).length).toBeLessThanOrEqual(5);
  });

  it('when an order would take the approved notional past the limit, then it is resized to what is left, with the retry time for the whole order', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: tradingLimits({ maxApprovedOrders: 100, maxApprovedNotionalUsd: 1_000_000 }), reservationTtlMs: 1_000 });
    expect(reserve(state, buildOrder({ quantity: 6 }), ctx).quantity).toBe(6);
    const out = reserve(state, buildOrder({ quantity: 6 }), { ...ctx, now: NOW + 12_000 });
    expect(out.quantity).toBeCloseTo(4, 9);
    expect(out.reasons).toEqual([expect.objectContaining({ code: 'ACCOUNT_NOTIONAL_RATE_LIMIT', limit: 1_000_000, observed: 1_200_000 })]);
    expect(out.retryAfterMs).toBe(WINDOW + 6_000 - 12_000);
    const none = reserve(state, buildOrder({ quantity: 1 }), { ...ctx, now: NOW + 13_000 });
    expect(none.quantity).toBe(0);
    expect(none.reasons[0]?.code).toBe('ACCOUNT_NOTIONAL_RATE_LIMIT');
    // 0.6M leaves at NOW+66s; the 0.4M approved at NOW+12s stays, so 0.1M more fits then.
    expect(none.retryAfterMs).toBe(WINDOW + 6_000 - 13_000);
  });

  it('when the notional is valued, then the higher of the mark and the order price counts', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: tradingLimits({ maxApprovedOrders: 100, maxApprovedNotionalUsd: 1_000_000 }), marks: { BTCUSDT: 125_000 } });
    reserve(state, buildOrder({ quantity: 4, price: 100_000 }), ctx);
    expect(approvalUse(state, NOW, WINDOW)).toEqual({ orders: 1, usd: 500_000 });
  });

  it('when the order limit is reached, then reduce-only orders still pass (they are counted, never refused)', () => {
    const state = buildAccount({ positions: { BTCUSDT: { quantity: 5, entryPrice: 100_000 } }, reconciledAt: NOW });
    const ctx = buildContext({ limits: tradingLimits({ maxApprovedOrders: 1 }) });
    reserve(state, buildOrder({ quantity: 0.1 }), ctx);
    const out = reserve(state, buildOrder({ side: 'sell', reduceOnly: true, quantity: 1 }), ctx);
    expect(out.quantity).toBe(1);
    expect(out.retryAfterMs).toBeUndefined();
    expect(approvalUse(state, NOW, WINDOW).orders).toBe(2);
  });

  it('when an order is rejected, then it is not counted', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: tradingLimits({ maxPositionNotionalUsd: 100_000 }) });
    expect(reserve(state, buildOrder({ quantity: 5 }), ctx).quantity).toBeCloseTo(1, 9);
    expect(reserve(state, buildOrder({ quantity: 5 }), ctx).quantity).toBe(0);
    expect(approvalUse(state, NOW, WINDOW).orders).toBe(1);
  });

  it('when an account trades for an hour, then its state keeps at most the buckets of one window', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: tradingLimits({ maxApprovedOrders: 1_000 }), reservationTtlMs: 1_000 });
    for (let t = 0; t < 3_600_000; t += 2_000) reserve(state, buildOrder({ quantity: 0.001 }), { ...ctx, now: NOW + t });
    expect(state.approvals.length).toBeLessThanOrEqual(11);
  });

  it('when the policy names no trading limits, then the defaults apply, and an account may override them', () => {
    const policy = ExposurePolicySchema.parse({ accounts: { 'fund-a': { maxApprovedOrders: 10, maxApprovedNotionalUsd: null } } });
    expect(policy.limits).toMatchObject({ maxApprovedOrders: 1_200, maxApprovedNotionalUsd: 50_000_000, approvalWindowMs: 60_000 });
    expect(limitsFor(policy, 'fund-a')).toMatchObject({ maxApprovedOrders: 10, maxApprovedNotionalUsd: null, approvalWindowMs: 60_000 });
    expect(ExposurePolicySchema.safeParse({ limits: { approvalWindowMs: 10 } }).success).toBe(false);
  });
});
