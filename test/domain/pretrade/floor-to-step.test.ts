import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePretrade, floorToStep, stepDecimals } from '../../../src/domain/pretrade/evaluate.js';
import { MARK, buildContext, buildMarket, buildOrder, buildPolicy } from './factories.js';

/**
 * Rounding a cap down to the quantity step. The policy accepts any positive step, not
 * only powers of ten: a rounded cap must never land above the cap (an order between the
 * two would then pass in full) and must be a multiple of the step.
 */

const STEPS = [0.25, 2.5, 0.125, 0.0025, 1e-7, 1.5e-7, 5, 0.001, 0.1, 1];

describe('floorToStep', () => {
  it.each([
    { v: 0.3, step: 0.1, out: 0.3 },
    { v: 0.29999, step: 0.1, out: 0.2 },
    { v: 1.23456, step: 0.001, out: 1.234 },
    { v: 7, step: 5, out: 5 },
    { v: 0, step: 0.001, out: 0 },
    { v: -1, step: 0.001, out: 0 },
    { v: 0.79, step: 0.25, out: 0.75 },
    { v: 0.75, step: 0.25, out: 0.75 },
    { v: 7.6, step: 2.5, out: 7.5 },
    { v: 0.99, step: 0.125, out: 0.875 },
    { v: 0.0174, step: 0.0025, out: 0.015 },
    { v: 3.33333349e-5, step: 1e-7, out: 3.33e-5 },
    { v: 4.7e-7, step: 1.5e-7, out: 4.5e-7 },
    { v: 14.99, step: 5, out: 10 },
    { v: 0.1525, step: 0.001, out: 0.152 },
  ])('when $v is rounded to $step, then it is $out (never up)', ({ v, step, out }) => {
    expect(floorToStep(v, step)).toBe(out);
  });

  it.each([
    { step: 0.25, d: 2 },
    { step: 2.5, d: 1 },
    { step: 5, d: 0 },
    { step: 0.001, d: 3 },
    { step: 1e-7, d: 7 },
    { step: 1.5e-7, d: 8 },
    { step: 1e21, d: 0 },
    { step: 1e-300, d: 300 },
  ])('when the step is $step, then it is written with $d decimals', ({ step, d }) => {
    expect(stepDecimals(step)).toBe(d);
  });

  it('when the step is finer than toFixed can write (1e-300), then the result is still a multiple at most the value', () => {
    const r = floorToStep(7.5e-300, 1e-300);
    expect(r).toBeLessThanOrEqual(7.5e-300);
    expect(Math.round(r / 1e-300)).toBe(7);
  });

  it('when the same value is rounded to steps that alternate, then each result uses its own step', () => {
    // The step's decimals are remembered per step: switching steps must not reuse stale decimals.
    expect(floorToStep(0.79, 0.25)).toBe(0.75);
    expect(floorToStep(0.79, 0.1)).toBe(0.7);
    expect(floorToStep(0.79, 0.25)).toBe(0.75);
  });

  it('when the step is not a positive number, then nothing is allowed (fail closed)', () => {
    for (const step of [0, -0.25, Number.NaN]) expect(floorToStep(1, step)).toBe(0);
  });

  it('for any positive value and step, the result is a multiple of the step, at most the value and less than one step below it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-9, max: 1e7, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(...STEPS),
        (v, s) => {
          const r = floorToStep(v, s);
          expect(r).toBeLessThanOrEqual(v * (1 + 1e-12));
          expect(v - r).toBeLessThan(s * (1 + 1e-9));
          // r / s within 1e-9 of an integer, or within the division's own float noise when the quotient is large (1e7 steps).
          const k = r / s;
          expect(Math.abs(k - Math.round(k))).toBeLessThan(Math.max(1e-9, k * 1e-15));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('for a value just below a multiple of the step, the result is the multiple below (no step up beyond float noise)', () => {
    fc.assert(
      // f at least 1e-8 of a step: below that, n - f is n itself in doubles (and within the tolerance).
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(...STEPS), fc.double({ min: 1e-8, max: 0.5, noNaN: true }), (n, s, f) => {
        const v = (n - f) * s;
        const r = floorToStep(v, s);
        expect(r).toBeLessThanOrEqual(v * (1 + 1e-12));
        expect(Math.round(r / s)).toBe(n - 1);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('evaluatePretrade: quantity steps that are not a power of ten', () => {
  // No order book: the fallback cap is noBookMaxNotionalUsd at the mark, so 79,000 USD is 0.79 BTC.
  const policy = buildPolicy({ quantityStep: 0.25, minQuantity: 0.25, noBookMaxNotionalUsd: 79_000 });
  const at = (quantity: number) =>
    evaluatePretrade(buildContext({ policy, market: buildMarket({ orderBook: null }), order: buildOrder({ quantity }) }));

  it('when 0.8 BTC is asked against a 0.79 BTC cap with step 0.25, then it is resized to 0.75, not approved in full', () => {
    const v = at(0.8);
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.75, approvedNotional: 0.75 * MARK });
    expect(v.reasons.map((r) => r.code)).toEqual(['NO_ORDER_BOOK']);
  });

  it('for any cap and any step, an order just above the cap is never approved in full and never gets more than the cap', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 5_000, max: 500_000, noNaN: true }),
        fc.constantFrom(0.25, 0.125, 0.0025, 0.001, 1e-7),
        fc.double({ min: 1e-6, max: 0.5, noNaN: true }),
        (capUsd, step, over) => {
          const capQ = capUsd / MARK;
          const quantity = capQ + over * step;
          fc.pre(quantity > capQ * (1 + 1e-12)); // above the cap by more than the rounding tolerance
          const v = evaluatePretrade(
            buildContext({
              policy: buildPolicy({ quantityStep: step, minQuantity: step, noBookMaxNotionalUsd: capUsd }),
              market: buildMarket({ orderBook: null }),
              order: buildOrder({ quantity }),
            }),
          );
          expect(v.decision).not.toBe('APPROVE');
          expect(v.approvedQuantity).toBeLessThanOrEqual(capQ * (1 + 1e-12));
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
