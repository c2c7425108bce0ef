import { describe, expect, it } from 'vitest';
import {
  bookDefect,
  bookReferencePrice,
  estimateSlippageBps,
  maxQuantityWithinSlippage,
} from '../../../src/domain/pretrade/slippage.js';
import { buildBook } from './factories.js';

describe('estimateSlippageBps', () => {
  it('when a buy fills inside the first ask level, then slippage is half the spread', () => {
    const book = buildBook({ mid: 100_000, halfSpread: 5, size: 2 });
    const est = estimateSlippageBps(book, 'buy', 1, 1);
    expect(est.filledQuantity).toBe(1);
    expect(est.averagePrice).toBe(100_005);
    expect(est.slippageBps).toBeCloseTo(0.5, 10);
    expect(est.exhausted).toBe(false);
  });

  it('when a sell walks two bid levels, then slippage is the VWAP distance below mid (positive)', () => {
    const book = buildBook({ mid: 100_000, halfSpread: 0, step: 10, size: 1 });
    // 1 @ 100000 + 1 @ 99990 -> VWAP 99995 -> 0.5 bps.
    expect(estimateSlippageBps(book, 'sell', 2, 1).slippageBps).toBeCloseTo(0.5, 10);
  });

  it('when depth is scaled down, then the same size walks deeper', () => {
    const book = buildBook({ halfSpread: 0, step: 10, size: 1 });
    const full = estimateSlippageBps(book, 'buy', 2, 1).slippageBps;
    const half = estimateSlippageBps(book, 'buy', 2, 0.5).slippageBps;
    expect(half).toBeGreaterThan(full);
    // 0.5 @ 100000, 0.5 @ 100010, 0.5 @ 100020, 0.5 @ 100030 -> VWAP 100015.
    expect(half).toBeCloseTo(1.5, 10);
  });

  it('when the book runs out, then it says so and reports the filled part', () => {
    const book = buildBook({ levels: 3, size: 1 });
    const est = estimateSlippageBps(book, 'buy', 5, 1);
    expect(est.exhausted).toBe(true);
    expect(est.filledQuantity).toBe(3);
  });

  it('when the walked side is empty, then nothing fills', () => {
    const book = { ts: 0, bids: [{ price: 99_999, size: 1 }], asks: [] };
    const est = estimateSlippageBps(book, 'buy', 1, 1);
    expect(est).toMatchObject({ filledQuantity: 0, averagePrice: null, exhausted: true });
  });

  it('when levels are invalid (zero, negative, NaN), then they are skipped', () => {
    const book = {
      ts: 0,
      bids: [{ price: 99_990, size: 1 }],
      asks: [
        { price: 100_010, size: 0 },
        { price: Number.NaN, size: 5 },
        { price: 100_010, size: -1 },
        { price: 100_020, size: 1 },
      ],
    };
    expect(bookReferencePrice(book)).toBe(100_005);
    expect(estimateSlippageBps(book, 'buy', 1, 1).averagePrice).toBe(100_020);
  });
});

describe('maxQuantityWithinSlippage', () => {
  // Brute force: bisection on the walk, the independent oracle.
  function bisect(book: ReturnType<typeof buildBook>, side: 'buy' | 'sell', budget: number, scale: number): number {
    let lo = 0;
    let hi = 1e6;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      const est = estimateSlippageBps(book, side, mid, scale);
      if (!est.exhausted && est.slippageBps <= budget) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  it.each([
    { side: 'buy' as const, budget: 1, scale: 1 },
    { side: 'buy' as const, budget: 7.3, scale: 0.61 },
    { side: 'sell' as const, budget: 2.5, scale: 1 },
    { side: 'sell' as const, budget: 15, scale: 0.3 },
  ])('when the budget is $budget bps ($side, depth x$scale), then it matches bisection', ({ side, budget, scale }) => {
    const book = buildBook({ halfSpread: 0.5, step: 10, size: 0.7, levels: 500 });
    const exact = maxQuantityWithinSlippage(book, side, budget, scale);
    expect(exact).toBeGreaterThan(0);
    expect(exact).toBeCloseTo(bisect(book, side, budget, scale), 6);
    expect(estimateSlippageBps(book, side, exact, scale).slippageBps).toBeLessThanOrEqual(budget + 1e-9);
  });

  it('when the spread alone exceeds the budget, then nothing is allowed', () => {
    const book = buildBook({ halfSpread: 50 }); // 5 bps half-spread
    expect(maxQuantityWithinSlippage(book, 'buy', 4, 1)).toBe(0);
  });

  it('when the whole scaled book is within budget, then the cap is the scaled depth', () => {
    const book = buildBook({ levels: 3, size: 2 });
    expect(maxQuantityWithinSlippage(book, 'sell', 100, 0.5)).toBeCloseTo(3, 12);
  });

  it('when the book is empty, then the cap is 0', () => {
    expect(maxQuantityWithinSlippage({ ts: 0, bids: [], asks: [] }, 'buy', 10, 1)).toBe(0);
  });
});

describe('a crossed or malformed book', () => {
  const crossed = { ts: 0, bids: [{ price: 110_000, size: 100 }], asks: [{ price: 90_000, size: 100 }] };

  it('when the book is crossed, then the walk reports slippage 0, never negative', () => {
    const est = estimateSlippageBps(crossed, 'buy', 9, 1);
    expect(est.averagePrice).toBe(90_000);
    expect(est.slippageBps).toBe(0);
  });

  it('when the book is crossed, then no quantity is allowed within any budget', () => {
    expect(maxQuantityWithinSlippage(crossed, 'buy', 15, 1)).toBe(0);
    expect(maxQuantityWithinSlippage(crossed, 'sell', 15, 1)).toBe(0);
  });

  it.each([
    { label: 'a sane ladder', book: buildBook(), defect: null },
    { label: 'a crossed book', book: crossed, defect: /crossed/ },
    { label: 'a locked book (bid = ask)', book: { ts: 0, bids: [{ price: 100, size: 1 }], asks: [{ price: 100, size: 1 }] }, defect: /crossed/ },
    { label: 'no asks', book: { ts: 0, bids: [{ price: 100, size: 1 }], asks: [] }, defect: /empty/ },
    { label: 'a null price', book: { ts: 0, bids: [{ price: 100, size: 1 }], asks: [{ price: null as unknown as number, size: 1 }] }, defect: /invalid ask/ },
    { label: 'asks out of order', book: { ts: 0, bids: [{ price: 99, size: 1 }], asks: [{ price: 102, size: 1 }, { price: 101, size: 1 }] }, defect: /ascending/ },
    { label: 'bids out of order', book: { ts: 0, bids: [{ price: 98, size: 1 }, { price: 99, size: 1 }], asks: [{ price: 101, size: 1 }] }, defect: /descending/ },
  ])('when given $label, then bookDefect says $defect', ({ book, defect }) => {
    const d = bookDefect(book);
    if (defect === null) expect(d).toBeNull();
    else expect(d).toMatch(defect);
  });
});
