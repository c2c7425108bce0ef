import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exposureUse, reserve } from '../../../src/domain/exposure/limits.js';
import { applyFill } from '../../../src/domain/exposure/positions.js';
import { NOW, buildAccount, buildContext, buildFill, buildLimits, buildOrder } from './factories.js';

describe('exposure limits', () => {
  it('when three $900k buys meet a $2M position limit, then two pass whole and the third is resized to the $200k left', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: buildLimits({ maxPositionNotionalUsd: 2_000_000 }) });
    const a = reserve(state, buildOrder({ quantity: 9 }), ctx);
    const b = reserve(state, buildOrder({ quantity: 9 }), ctx);
    const c = reserve(state, buildOrder({ quantity: 9 }), ctx);
    expect([a.quantity, b.quantity]).toEqual([9, 9]);
    expect(c.quantity).toBeCloseTo(2, 9);
    expect(c.reasons).toEqual([
      expect.objectContaining({ code: 'EXPOSURE_POSITION_LIMIT', limit: 2_000_000, observed: 2_700_000 }),
    ]);
  });

  it('when nothing is left under the gross limit, then a risk-adding order is rejected naming it', () => {
    const state = buildAccount({ positions: { ETHUSDT: { quantity: 1_000, entryPrice: 4_000 } } });
    const ctx = buildContext({ limits: buildLimits({ maxGrossNotionalUsd: 4_000_000, maxNetNotionalUsd: 1e9 }) });
    const out = reserve(state, buildOrder({ quantity: 1 }), ctx);
    expect(out.quantity).toBe(0);
    expect(out.reasons.map((r) => r.code)).toEqual(['EXPOSURE_GROSS_LIMIT']);
    expect(state.reservations).toHaveLength(0);
  });

  it('when a short in one symbol offsets a long in another, then the net limit leaves room the gross limit does not', () => {
    const state = buildAccount({ positions: { ETHUSDT: { quantity: -250, entryPrice: 4_000 } } });
    const ctx = buildContext({ limits: buildLimits({ maxNetNotionalUsd: 500_000, maxGrossNotionalUsd: 10_000_000 }) });
    // Net is -1M; a 15 BTC buy (1.5M) ends at +0.5M: exactly the limit.
    expect(reserve(state, buildOrder({ quantity: 15 }), ctx).quantity).toBeCloseTo(15, 9);
    const more = reserve(state, buildOrder({ quantity: 1 }), ctx);
    expect(more.quantity).toBe(0);
    expect(more.reasons[0]?.code).toBe('EXPOSURE_NET_LIMIT');
  });

  it('when the time-of-day scale is 0.5, then the USD limits are halved', () => {
    const out = reserve(buildAccount(), buildOrder({ quantity: 15 }), buildContext({ scale: 0.5 }));
    expect(out.quantity).toBeCloseTo(10, 9);
    expect(out.reasons[0]).toMatchObject({ code: 'EXPOSURE_POSITION_LIMIT', limit: 1_000_000 });
  });

  it('when the open reservations reach the maximum, then the next risk-adding order is rejected and a reduce-only one is not', () => {
    const state = buildAccount({ positions: { BTCUSDT: { quantity: 1, entryPrice: 100_000 } }, reconciledAt: NOW });
    const ctx = buildContext({ limits: buildLimits({ maxOpenReservations: 2 }) });
    reserve(state, buildOrder({ quantity: 0.1 }), ctx);
    reserve(state, buildOrder({ quantity: 0.1 }), ctx);
    expect(reserve(state, buildOrder({ quantity: 0.1 }), ctx).reasons[0]?.code).toBe('EXPOSURE_RESERVATIONS_LIMIT');
    expect(reserve(state, buildOrder({ side: 'sell', reduceOnly: true, quantity: 0.5 }), ctx).quantity).toBe(0.5);
  });

  it('when a reservation expires, then its room comes back', () => {
    const state = buildAccount();
    const ctx = buildContext({ limits: buildLimits({ maxPositionNotionalUsd: 1_000_000 }) });
    expect(reserve(state, buildOrder({ quantity: 10 }), ctx).quantity).toBe(10);
    expect(reserve(state, buildOrder({ quantity: 10 }), ctx).quantity).toBe(0);
    expect(reserve(state, buildOrder({ quantity: 10 }), { ...ctx, now: NOW + ctx.reservationTtlMs }).quantity).toBe(10);
  });

  it('when a held symbol has no mark, then risk-adding orders are rejected as unconfirmed', () => {
    const state = buildAccount({ positions: { SOLUSDT: { quantity: 10, entryPrice: 150 } } });
    const out = reserve(state, buildOrder(), buildContext());
    expect(out.reasons[0]).toMatchObject({ code: 'EXPOSURE_UNCONFIRMED', observed: 'no mark price for SOLUSDT' });
  });

  it('when the quantity step is 0.1, then a resize is rounded down to it', () => {
    const state = buildAccount();
    const out = reserve(state, buildOrder({ quantity: 25, quantityStep: 0.1, price: 99_999 }), buildContext());
    expect(out.quantity).toBeCloseTo(20, 9);
    expect(out.quantity * 100_000).toBeLessThanOrEqual(2_000_000 * (1 + 1e-9));
  });
});

describe('reduce-only', () => {
  const confirmed = { reconciledAt: NOW - 1_000 };

  it('when a reduce-only sell exceeds the long, then it is capped at the position (never flips)', () => {
    const state = buildAccount({ positions: { BTCUSDT: { quantity: 2, entryPrice: 90_000 } }, ...confirmed });
    const out = reserve(state, buildOrder({ side: 'sell', reduceOnly: true, quantity: 3 }), buildContext());
    expect(out.quantity).toBe(2);
    expect(out.reasons[0]).toMatchObject({ code: 'REDUCE_ONLY_CAPPED', limit: 200_000, observed: 300_000 });
  });

  it('when another reduce-only order already reserved part of the position, then the next is capped at the rest', () => {
    const state = buildAccount({ positions: { BTCUSDT: { quantity: -2, entryPrice: 90_000 } }, ...confirmed });
    expect(reserve(state, buildOrder({ side: 'buy', reduceOnly: true, quantity: 1.5 }), buildContext()).quantity).toBe(1.5);
    expect(reserve(state, buildOrder({ side: 'buy', reduceOnly: true, quantity: 1.5 }), buildContext()).quantity).toBeCloseTo(0.5, 9);
    expect(reserve(state, buildOrder({ side: 'buy', reduceOnly: true, quantity: 1 }), buildContext()).quantity).toBe(0);
  });

  it('when there is no position and positions were reconciled after the last opening order, then it is rejected', () => {
    const state = buildAccount({ ...confirmed, lastOpeningAt: NOW - 5_000 });
    const out = reserve(state, buildOrder({ side: 'sell', reduceOnly: true }), buildContext());
    expect(out.quantity).toBe(0);
    expect(out.reasons[0]?.code).toBe('REDUCE_ONLY_NO_POSITION');
  });

  it('when there is no known position but an opening order was approved since the reconciliation, then it passes with a warning', () => {
    const state = buildAccount({ reconciledAt: NOW - 5_000, lastOpeningAt: NOW - 1_000 });
    const out = reserve(state, buildOrder({ side: 'sell', reduceOnly: true, quantity: 0.3 }), buildContext());
    expect(out.quantity).toBe(0.3);
    expect(out.warnings[0]?.code).toBe('REDUCE_ONLY_POSITION_UNCONFIRMED');
  });

  it('when positions are older than the max age and the policy requires confirmed positions, then it is rejected', () => {
    const state = buildAccount({ reconciledAt: NOW - 600_000 });
    const out = reserve(state, buildOrder({ side: 'sell', reduceOnly: true }), buildContext({ requireConfirmedPositions: true }));
    expect(out.quantity).toBe(0);
    expect(out.reasons[0]?.code).toBe('REDUCE_ONLY_POSITION_UNCONFIRMED');
  });
});

describe('max loss', () => {
  it('when realized plus unrealized loss exceeds the max, then the account turns REDUCING and stays so', () => {
    const state = buildAccount();
    applyFill(state, buildFill({ side: 'buy', quantity: 1, price: 100_000 }));
    applyFill(state, buildFill({ side: 'sell', quantity: 1, price: 95_000 })); // realized -5,000
    applyFill(state, buildFill({ side: 'buy', quantity: 1, price: 100_000 })); // unrealized -? at the mark
    const ctx = buildContext({ marks: { BTCUSDT: 94_000, ETHUSDT: 4_000 }, limits: buildLimits({ maxLossUsd: 10_000 }) });
    const out = reserve(state, buildOrder({ quantity: 0.01, price: 94_000 }), ctx);
    expect(out.reasons[0]).toMatchObject({ code: 'ACCOUNT_MAX_LOSS', limit: 10_000, observed: 11_000 });
    expect(state.reducing).toEqual({ since: NOW, lossUsd: 11_000 });
    const later = reserve(state, buildOrder({ quantity: 0.01 }), { ...ctx, marks: { BTCUSDT: 120_000 } });
    expect(later.reasons[0]?.code).toBe('ACCOUNT_REDUCING');
    expect(reserve(state, buildOrder({ side: 'sell', reduceOnly: true, quantity: 1 }), ctx).quantity).toBe(1);
  });

  it('when the loss was realized before the window, then it no longer counts', () => {
    const state = buildAccount();
    applyFill(state, buildFill({ side: 'buy', quantity: 1, price: 100_000, executedAt: NOW - 90_000_000 }));
    applyFill(state, buildFill({ side: 'sell', quantity: 1, price: 80_000, executedAt: NOW - 90_000_000 }));
    const out = reserve(state, buildOrder({ quantity: 0.01 }), buildContext({ limits: buildLimits({ maxLossUsd: 10_000 }) }));
    expect(out.quantity).toBe(0.01);
  });
});

describe('exposure properties', () => {
  const symbols = ['BTCUSDT', 'ETHUSDT'] as const;
  const marks = { BTCUSDT: 100_000, ETHUSDT: 4_000 };
  const orderArb = fc.record({
    symbol: fc.constantFrom(...symbols),
    side: fc.constantFrom('buy' as const, 'sell' as const),
    usd: fc.double({ min: 1_000, max: 3_000_000, noNaN: true }),
    reduceOnly: fc.boolean(),
    fill: fc.double({ min: 0, max: 1, noNaN: true }),
    release: fc.boolean(),
  });
  const limitsArb = fc.record({
    maxPositionNotionalUsd: fc.double({ min: 10_000, max: 3_000_000, noNaN: true }),
    maxGrossNotionalUsd: fc.double({ min: 10_000, max: 5_000_000, noNaN: true }),
    maxNetNotionalUsd: fc.double({ min: 10_000, max: 5_000_000, noNaN: true }),
  });

  it('approved worst-case exposure never exceeds a limit, whatever orders arrive and fill', () => {
    fc.assert(
      fc.property(limitsArb, fc.array(orderArb, { maxLength: 30 }), fc.double({ min: 0.2, max: 1, noNaN: true }), (lim, orders, scale) => {
        const state = buildAccount({ reconciledAt: NOW });
        const ctx = buildContext({ limits: buildLimits(lim), scale, marks });
        let i = 0;
        for (const o of orders) {
          const price = marks[o.symbol];
          const out = reserve(state, buildOrder({ symbol: o.symbol, side: o.side, quantity: o.usd / price, price, reduceOnly: o.reduceOnly }), ctx);
          const use = exposureUse(state, marks);
          const tol = 1 + 1e-6;
          if (out.quantity > 0 && !o.reduceOnly) {
            expect(use.positionUsd[o.symbol] ?? 0).toBeLessThanOrEqual(lim.maxPositionNotionalUsd * scale * tol);
            expect(use.grossUsd).toBeLessThanOrEqual(lim.maxGrossNotionalUsd * scale * tol);
            expect(use.netUsd).toBeLessThanOrEqual(lim.maxNetNotionalUsd * scale * tol);
          }
          // Part of it fills (consuming the reservation), or the engine lets it go.
          if (out.quantity > 0 && o.fill > 0)
            applyFill(state, buildFill({ fillId: `f${i++}`, decisionId: out.decisionId, symbol: o.symbol, side: o.side, quantity: out.quantity * o.fill, price }));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reduce-only orders, each filled in full, never flip or grow a position', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), fc.array(orderArb, { maxLength: 20 }), (start, orders) => {
        const state = buildAccount({ positions: { BTCUSDT: { quantity: start, entryPrice: 100_000 } }, reconciledAt: NOW });
        const ctx = buildContext();
        const approved = orders.map((o) => reserve(state, buildOrder({ side: o.side, quantity: o.usd / 100_000, reduceOnly: true }), ctx));
        // Every approved reduce-only order fills completely, in any order: the position stays on its side.
        approved.forEach((out, k) => {
          if (out.quantity > 0) applyFill(state, buildFill({ decisionId: out.decisionId, side: orders[k]!.side, quantity: out.quantity }));
          const q = state.positions.BTCUSDT?.quantity ?? 0;
          expect(Math.sign(q) === 0 || Math.sign(q) === Math.sign(start)).toBe(true);
          expect(Math.abs(q)).toBeLessThanOrEqual(Math.abs(start) * (1 + 1e-9) + 1e-9);
        });
      }),
      { numRuns: 300 },
    );
  });
});
