import { describe, expect, it } from 'vitest';
import { evaluatePretrade, floorToStep } from '../../../../src/domain/pretrade/evaluate.js';
import { maxQuantityWithinSlippage } from '../../../../src/domain/pretrade/slippage.js';
import type { OrderBook } from '../../../../src/domain/market-data.js';
import { MARK, NOW, WEEKDAY_2130, buildBook, buildContext, buildHeatmap, buildMarket, buildOrder, buildPolicy, clusterAt, marketAt } from '../factories.js';
import { codes, viaJson, warningCodes } from '../verdicts.js';

describe('evaluatePretrade: slippage budget', () => {
  // Thin book: 0.2 BTC every 1 bps; depth scale is 1 at 11:30 with clusters 500 bps away.
  const book = buildBook({ size: 0.2, levels: 400 });
  const exactCap = maxQuantityWithinSlippage(book, 'buy', 15, 1);
  const ctx = (quantity: number) => buildContext({ market: buildMarket({ orderBook: book }), order: buildOrder({ quantity }) });

  it.each([
    { label: 'well below', q: 1, decision: 'APPROVE' },
    { label: 'just below the rounded cap', q: floorToStep(exactCap, 0.001) - 0.001, decision: 'APPROVE' },
    { label: 'exactly the rounded cap', q: floorToStep(exactCap, 0.001), decision: 'APPROVE' },
    { label: 'just above', q: floorToStep(exactCap, 0.001) + 0.001, decision: 'RESIZE' },
    { label: 'far above', q: 9, decision: 'RESIZE' },
  ])('when the size is $label the budget ($q BTC), then $decision', ({ q, decision }) => {
    const v = evaluatePretrade(ctx(q));
    expect(v.decision).toBe(decision);
    expect(v.expectedSlippageBps).toBeLessThanOrEqual(15 + 0.01);
    if (decision === 'RESIZE') {
      expect(v.approvedQuantity).toBe(floorToStep(exactCap, 0.001));
      expect(v.reasons[0]).toMatchObject({ code: 'SLIPPAGE_LIMIT', limit: 15 });
      expect(Number(v.reasons[0]?.observed)).toBeGreaterThanOrEqual(15);
    }
  });

  it('when the mark nears a cluster, then depth is thinned and the slippage cap tightens', () => {
    // Proximity sizing off, so only the thinned book binds: 80 bps -> depth x (0.5 + 0.5 x 0.8).
    const farCap = evaluatePretrade(ctx(9)).approvedQuantity;
    const near = evaluatePretrade(
      buildContext({
        policy: buildPolicy({ proximityMinFactor: 1 }),
        market: buildMarket({ orderBook: book, heatmap: buildHeatmap({ clusters: [clusterAt('short', 80)] }) }),
        order: buildOrder({ quantity: 9 }),
      }),
    );
    expect(near.approvedQuantity).toBe(floorToStep(maxQuantityWithinSlippage(book, 'buy', 15, 0.9), 0.001));
    expect(near.approvedQuantity).toBeLessThan(farCap);
    expect(codes(near)).toEqual(['SLIPPAGE_LIMIT']);
  });

  it('when it is 21:30 UTC, then the same book allows less (depth x 0.61)', () => {
    const day = evaluatePretrade(ctx(9)).approvedQuantity;
    const market = marketAt(WEEKDAY_2130, {}, { orderBook: { ...book, ts: WEEKDAY_2130 } });
    const night = evaluatePretrade(buildContext({ now: WEEKDAY_2130, market, order: buildOrder({ quantity: 9 }) }));
    expect(night.approvedQuantity).toBeCloseTo(floorToStep(maxQuantityWithinSlippage(book, 'buy', 15, 0.61), 0.001), 9);
    expect(night.approvedQuantity).toBeLessThan(day);
  });

  it('when there is no order book, then a market order is capped at the fallback notional, never unbounded', () => {
    const v = evaluatePretrade(buildContext({ market: buildMarket({ orderBook: null }), order: buildOrder({ quantity: 5 }) }));
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25, approvedNotional: 25_000, expectedSlippageBps: null });
    expect(codes(v)).toEqual(['NO_ORDER_BOOK']);
  });

  it('when the order book has no asks, then a buy gets the fallback cap', () => {
    const v = evaluatePretrade(
      buildContext({ market: buildMarket({ orderBook: { ts: NOW, bids: buildBook().bids, asks: [] } }), order: buildOrder({ quantity: 0.1 }) }),
    );
    expect(v.decision).toBe('APPROVE');
    expect(warningCodes(v)).toEqual(['NO_ORDER_BOOK']);
  });
});

describe('evaluatePretrade: only a sane order book is used', () => {
  const withBook = (orderBook: OrderBook | null, quantity = 9) =>
    evaluatePretrade(buildContext({ market: buildMarket({ orderBook }), order: buildOrder({ quantity }) }));

  it('when the book is crossed (bid 110k, ask 90k), then it counts as no book and slippage is never negative', () => {
    const crossed = { ts: NOW - 1_000, bids: [{ price: 110_000, size: 100 }], asks: [{ price: 90_000, size: 100 }] };
    const v = withBook(crossed);
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25, expectedSlippageBps: null });
    expect(codes(v)).toEqual(['NO_ORDER_BOOK']);
    expect(v.reasons[0]?.message).toMatch(/crossed/);
  });

  it.each([
    { label: '20% above the mark', mid: 120_000, used: false },
    { label: '101 bps above the mark', mid: 101_010, used: false },
    { label: '99 bps below the mark', mid: 99_010, used: true },
  ])('when the book mid is $label (max 100 bps), then used=$used', ({ mid, used }) => {
    const v = withBook(buildBook({ mid }), 0.1);
    expect(v.expectedSlippageBps === null).toBe(!used);
    expect(warningCodes(v).includes('NO_ORDER_BOOK')).toBe(!used);
  });

  it('when the policy allows a wider deviation, then a book that far from the mark is used', () => {
    const v = evaluatePretrade(
      buildContext({ policy: buildPolicy({ maxBookMarkDeviationBps: 300 }), market: buildMarket({ orderBook: buildBook({ mid: 102_000 }) }), order: buildOrder({ quantity: 0.1 }) }),
    );
    expect(v.expectedSlippageBps).not.toBeNull();
  });

  it.each([
    { label: 'a NaN price (null after JSON)', patch: { price: Number.NaN, size: 1 } },
    { label: 'a zero size', patch: { price: MARK + 100, size: 0 } },
    { label: 'a negative size', patch: { price: MARK + 100, size: -5 } },
  ])('when one ask level has $label, then the book is not used', ({ patch }) => {
    const book = buildBook();
    book.asks.splice(3, 0, patch);
    const v = withBook(viaJson(book), 0.1);
    expect(v.expectedSlippageBps).toBeNull();
    expect(warningCodes(v)).toContain('NO_ORDER_BOOK');
  });

  it('when the bid side is empty, then even a buy gets the fallback cap', () => {
    const v = withBook({ ts: NOW - 1_000, bids: [], asks: buildBook().asks }, 0.1);
    expect(warningCodes(v)).toContain('NO_ORDER_BOOK');
  });
});
