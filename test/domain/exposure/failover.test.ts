import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { positionsConfirmed, positionsMaxAge, reserve } from '../../../src/domain/exposure/limits.js';
import { NOW, buildAccount, buildContext, buildOrder } from './factories.js';

const MAX_AGE = 300_000;

describe('positions after a Redis failover', () => {
  it('when no failover was seen, then the configured max age applies', () => {
    expect(positionsMaxAge(MAX_AGE, NOW, null)).toBe(MAX_AGE);
  });

  it('when Redis failed over 40 s ago, then positions count as confirmed only if reconciled since', () => {
    const maxAge = positionsMaxAge(MAX_AGE, NOW, NOW - 40_000);
    expect(maxAge).toBe(40_000);
    expect(positionsConfirmed(buildAccount({ reconciledAt: NOW - 41_000 }), NOW, maxAge)).toBe(false);
    expect(positionsConfirmed(buildAccount({ reconciledAt: NOW - 40_000 }), NOW, maxAge)).toBe(true);
    expect(positionsConfirmed(buildAccount({ reconciledAt: NOW - 1_000 }), NOW, maxAge)).toBe(true);
  });

  it('when the failover is older than the max age, then the configured max age applies again', () => {
    expect(positionsMaxAge(MAX_AGE, NOW, NOW - 2 * MAX_AGE)).toBe(MAX_AGE);
  });

  it('when another replica dated the failover slightly ahead of this clock, then the max age is 0, never negative', () => {
    expect(positionsMaxAge(MAX_AGE, NOW, NOW + 50)).toBe(0);
  });

  it('for any reconciliation before the failover, positions are never confirmed; at or after it (within the max age), they are', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * MAX_AGE }), fc.integer({ min: 0, max: 10 * MAX_AGE }), (sinceFailover, sinceReconcile) => {
        const failoverAt = NOW - sinceFailover;
        const reconciledAt = NOW - sinceReconcile;
        const confirmed = positionsConfirmed(buildAccount({ reconciledAt }), NOW, positionsMaxAge(MAX_AGE, NOW, failoverAt));
        expect(confirmed).toBe(reconciledAt >= failoverAt && sinceReconcile <= MAX_AGE);
      }),
    );
  });

  it('when an account reconciled flat before the failover sends a reduce-only order, then it passes with REDUCE_ONLY_POSITION_UNCONFIRMED instead of the confirmed REDUCE_ONLY_NO_POSITION', () => {
    const order = () => buildOrder({ side: 'sell', reduceOnly: true });
    const before = reserve(buildAccount({ reconciledAt: NOW - 60_000 }), order(), buildContext({ positionsMaxAgeMs: positionsMaxAge(MAX_AGE, NOW, null) }));
    expect(before.reasons.map((r) => r.code)).toEqual(['REDUCE_ONLY_NO_POSITION']);

    const ctx = buildContext({ positionsMaxAgeMs: positionsMaxAge(MAX_AGE, NOW, NOW - 30_000) });
    const after = reserve(buildAccount({ reconciledAt: NOW - 60_000 }), order(), ctx);
    expect(after.quantity).toBe(1);
    expect(after.warnings).toEqual([expect.objectContaining({ code: 'REDUCE_ONLY_POSITION_UNCONFIRMED', limit: 30_000, observed: 60_000 })]);

    const strict = reserve(buildAccount({ reconciledAt: NOW - 60_000 }), order(), { ...ctx, requireConfirmedPositions: true });
    expect(strict.quantity).toBe(0);
    expect(strict.reasons.map((r) => r.code)).toEqual(['REDUCE_ONLY_POSITION_UNCONFIRMED']);
  });
});
