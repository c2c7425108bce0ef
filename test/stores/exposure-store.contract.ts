import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reserve } from '../../src/domain/exposure/limits.js';
import { applyFill } from '../../src/domain/exposure/positions.js';
import type { ExposureStore } from '../../src/stores/exposure-store.js';
import { NOW, buildAccount, buildContext, buildFill, buildLimits, buildOrder } from '../domain/exposure/factories.js';

export interface ExposureStoreUnderTest {
  store: ExposureStore;
  cleanup(): Promise<void>;
}

/** What every exposure store does; run against the memory and the Redis store. */
export function exposureStoreContract(name: string, make: () => Promise<ExposureStoreUnderTest>): void {
  describe(`exposure store contract (${name})`, () => {
    let sut: ExposureStoreUnderTest;
    let store: ExposureStore;
    beforeEach(async () => {
      sut = await make();
      store = sut.store;
    });
    afterEach(async () => {
      await sut.cleanup();
    });

    it('when an account was never seen, then it is unknown', async () => {
      expect(await store.get('nobody')).toBeNull();
      expect(await store.knownAccounts()).toEqual([]);
    });

    it('when a fill is sent twice with the same body, then it is applied once; with another body, it is a conflict', async () => {
      const fill = buildFill({ fillId: 'f-1', quantity: 2 });
      expect(await store.applyFill('a', fill, NOW)).toEqual({ status: 'applied', reservationFound: false });
      expect(await store.applyFill('a', fill, NOW)).toEqual({ status: 'duplicate' });
      expect(await store.applyFill('a', { ...fill, quantity: 3 }, NOW)).toEqual({ status: 'conflict' });
      expect((await store.get('a'))?.positions.BTCUSDT?.quantity).toBe(2);
      expect(await store.knownAccounts()).toEqual(['a']);
    });

    it('when an account only had orders checked and reserved (no fill, no reconciliation), then it is known', async () => {
      await store.reserve('gate-only', [buildOrder({ quantity: 1 })], buildContext());
      // The Redis store adds it in the background (off the decision's round trip).
      await expect.poll(() => store.knownAccounts()).toEqual(['gate-only']);
    });

    it('when orders are reserved in one call, then each is decided after the one before', async () => {
      const ctx = buildContext({ limits: buildLimits({ maxPositionNotionalUsd: 2_000_000 }) });
      const out = await store.reserve('a', [buildOrder({ quantity: 9 }), buildOrder({ quantity: 9 }), buildOrder({ quantity: 9 })], ctx);
      expect(out.map((o) => o.quantity)).toEqual([9, 9, expect.closeTo(2, 9)]);
      expect(out[2]?.reasons[0]).toMatchObject({ code: 'EXPOSURE_POSITION_LIMIT', limit: 2_000_000, observed: 2_700_000 });
      expect(out[2]?.reasons[0]?.message).toContain('2700000 USD');
      expect((await store.get('a'))?.reservations).toHaveLength(3);
    });

    it('when a fill names the decision, then it consumes the reservation; a release is idempotent', async () => {
      const ctx = buildContext({ limits: buildLimits({ maxPositionNotionalUsd: 1_000_000 }) });
      const [a, b] = await store.reserve('a', [buildOrder({ decisionId: 'd-a', quantity: 5 }), buildOrder({ decisionId: 'd-b', quantity: 5 })], ctx);
      expect([a?.quantity, b?.quantity]).toEqual([5, 5]);
      expect(await store.applyFill('a', buildFill({ decisionId: 'd-a', quantity: 5 }), NOW)).toEqual({ status: 'applied', reservationFound: true });
      expect(await store.release('a', 'd-b')).toBe(true);
      expect(await store.release('a', 'd-b')).toBe(false);
      const state = await store.get('a');
      expect(state?.reservations).toEqual([]);
      expect(state?.positions.BTCUSDT?.quantity).toBe(5);
      // Released room is back: 5 held, 5 left.
      expect((await store.reserve('a', [buildOrder({ quantity: 10 })], ctx))[0]?.quantity).toBeCloseTo(5, 9);
    });

    it('when reservations pass their TTL, then they no longer count', async () => {
      const ctx = buildContext({ limits: buildLimits({ maxPositionNotionalUsd: 1_000_000 }), reservationTtlMs: 60_000 });
      await store.reserve('a', [buildOrder({ quantity: 10 })], ctx);
      expect((await store.reserve('a', [buildOrder({ quantity: 10 })], ctx))[0]?.quantity).toBe(0);
      expect((await store.reserve('a', [buildOrder({ quantity: 10 })], { ...ctx, now: NOW + 60_000 }))[0]?.quantity).toBe(10);
    });

    it('when a snapshot arrives, then fills after its asOf are applied on top, and an older snapshot is refused', async () => {
      await store.applyFill('a', buildFill({ fillId: 'early', quantity: 1, executedAt: NOW - 10_000 }), NOW);
      await store.applyFill('a', buildFill({ fillId: 'late', quantity: 2, executedAt: NOW - 1_000 }), NOW);
      expect(await store.reconcile('a', NOW - 5_000, [{ symbol: 'BTCUSDT', quantity: 4, entryPrice: 100_000 }], NOW)).toEqual({ status: 'applied', replayedFills: 1 });
      const state = await store.get('a');
      expect(state?.positions.BTCUSDT?.quantity).toBe(6);
      expect(state?.reconciledAt).toBe(NOW - 5_000);
      expect(await store.reconcile('a', NOW - 6_000, [], NOW)).toEqual({ status: 'stale', reconciledAt: NOW - 5_000 });
    });

    it('when the max loss is breached, then the account is REDUCING until reset', async () => {
      await store.applyFill('a', buildFill({ quantity: 1, price: 100_000 }), NOW);
      const ctx = buildContext({ marks: { BTCUSDT: 80_000 }, limits: buildLimits({ maxLossUsd: 10_000 }) });
      expect((await store.reserve('a', [buildOrder({ price: 80_000 })], ctx))[0]?.reasons[0]?.code).toBe('ACCOUNT_MAX_LOSS');
      expect((await store.get('a'))?.reducing).toEqual({ since: NOW, lossUsd: 20_000 });
      expect(await store.resetReducing('a')).toBe(true);
      expect(await store.resetReducing('a')).toBe(false);
    });

    it('when a reduce-only order has no position and positions are unconfirmed, then it passes with the warning', async () => {
      const [out] = await store.reserve('a', [buildOrder({ side: 'sell', reduceOnly: true, quantity: 0.5 })], buildContext());
      expect(out?.quantity).toBe(0.5);
      expect(out?.warnings).toEqual([expect.objectContaining({ code: 'REDUCE_ONLY_POSITION_UNCONFIRMED', observed: null })]);
    });

    it('when an account had its most orders approved in the window, then the next is rejected with retryAfterMs, and passes once that has elapsed', async () => {
      const ctx = buildContext({ limits: buildLimits({ maxApprovedOrders: 2, maxApprovedNotionalUsd: null, approvalWindowMs: 60_000 }), reservationTtlMs: 1_000 });
      const first = await store.reserve('a', [buildOrder({ quantity: 0.1 }), buildOrder({ quantity: 0.1 }), buildOrder({ quantity: 0.1 })], ctx);
      expect(first.map((o) => o.quantity)).toEqual([0.1, 0.1, 0]);
      expect(first[2]?.reasons).toEqual([expect.objectContaining({ code: 'ACCOUNT_ORDER_RATE_LIMIT', limit: 2, observed: 2 })]);
      expect(first[2]?.retryAfterMs).toBe(66_000);
      expect(first[0]?.retryAfterMs).toBeUndefined();
      expect((await store.reserve('a', [buildOrder({ quantity: 0.1 })], { ...ctx, now: NOW + 65_999 }))[0]?.quantity).toBe(0);
      expect((await store.reserve('a', [buildOrder({ quantity: 0.1 })], { ...ctx, now: NOW + 66_000 }))[0]?.quantity).toBe(0.1);
    });

    it('when the approved notional would pass its limit, then the order is resized to what is left with retryAfterMs', async () => {
      const ctx = buildContext({ limits: buildLimits({ maxApprovedOrders: 100, maxApprovedNotionalUsd: 1_000_000, approvalWindowMs: 60_000 }) });
      const [a, b] = await store.reserve('a', [buildOrder({ quantity: 6 }), buildOrder({ quantity: 6 })], ctx);
      expect(a?.quantity).toBe(6);
      expect(b?.quantity).toBeCloseTo(4, 9);
      expect(b?.reasons).toEqual([expect.objectContaining({ code: 'ACCOUNT_NOTIONAL_RATE_LIMIT', limit: 1_000_000, observed: 1_200_000 })]);
      expect(b?.retryAfterMs).toBe(66_000);
      expect((await store.get('a'))?.approvals).toEqual([{ at: NOW, orders: 2, usd: expect.closeTo(1_000_000, 3) }]);
    });

    it('decides every random sequence of orders, fills and releases exactly as the domain does', async () => {
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('order' as const),
          symbol: fc.constantFrom('BTCUSDT', 'ETHUSDT'),
          side: fc.constantFrom('buy' as const, 'sell' as const),
          usd: fc.integer({ min: 10_000, max: 1_500_000 }),
          reduceOnly: fc.boolean(),
        }),
        fc.record({ kind: fc.constant('fill' as const), share: fc.constantFrom(0.5, 1) }),
        fc.record({ kind: fc.constant('release' as const) }),
      );
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
          run += 1;
          const id = `prop-${run}`;
          const ref = buildAccount({ accountId: id, reconciledAt: NOW });
          await store.reconcile(id, NOW, [], NOW);
          const ctx = buildContext({ limits: buildLimits({ maxPositionNotionalUsd: 1_500_000, maxGrossNotionalUsd: 2_000_000, maxNetNotionalUsd: 1_800_000, maxOpenReservations: 6, maxApprovedOrders: 5, maxApprovedNotionalUsd: 4_000_000 }) });
          const marks = ctx.marks as Record<string, number>;
          const open: { decisionId: string; symbol: string; side: 'buy' | 'sell'; quantity: number }[] = [];
          let k = 0;
          for (const o of ops) {
            k += 1;
            if (o.kind === 'order') {
              const price = marks[o.symbol]!;
              const order = buildOrder({ decisionId: `${id}-${k}`, symbol: o.symbol, side: o.side, quantity: o.usd / price, price, reduceOnly: o.reduceOnly, quantityStep: 0.001 });
              const want = reserve(ref, order, ctx);
              const [got] = await store.reserve(id, [order], ctx);
              expect(got?.quantity).toBeCloseTo(want.quantity, 9);
              expect(got?.reasons.map((r) => [r.code, r.limit])).toEqual(want.reasons.map((r) => [r.code, r.limit]));
              expect(got?.retryAfterMs).toBe(want.retryAfterMs);
              if (want.quantity > 0) open.push({ decisionId: order.decisionId, symbol: o.symbol, side: o.side, quantity: want.quantity });
            } else if (o.kind === 'fill' && open.length > 0) {
              const r = open[0]!;
              const fill = buildFill({ fillId: `${id}-f${k}`, decisionId: r.decisionId, symbol: r.symbol, side: r.side, quantity: r.quantity * o.share, price: marks[r.symbol]!, executedAt: NOW + k });
              applyFill(ref, fill);
              await store.applyFill(id, fill, NOW);
              open.shift();
            } else if (o.kind === 'release' && open.length > 0) {
              const r = open.pop()!;
              ref.reservations = ref.reservations.filter((x) => x.decisionId !== r.decisionId);
              await store.release(id, r.decisionId);
            }
          }
          const state = await store.get(id);
          for (const s of ['BTCUSDT', 'ETHUSDT']) expect(state?.positions[s]?.quantity ?? 0).toBeCloseTo(ref.positions[s]?.quantity ?? 0, 9);
        }),
        { numRuns: 40 },
      );
    });
  });
}
