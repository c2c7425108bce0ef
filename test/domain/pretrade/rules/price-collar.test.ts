import { describe, expect, it } from 'vitest';
import { evaluatePretrade } from '../../../../src/domain/pretrade/evaluate.js';
import { buildOrder, contextWithClusters } from '../factories.js';
import { codes } from '../verdicts.js';

describe('evaluatePretrade: limit orders', () => {
  it.each([
    { label: 'exactly on the collar (10%)', limitPrice: 90_000, collar: false },
    { label: 'just beyond the collar', limitPrice: 89_990, collar: true },
    { label: 'far above the mark', limitPrice: 111_000, collar: true },
  ])('when the limit price is $label, then collar=$collar', ({ limitPrice, collar }) => {
    const v = evaluatePretrade(contextWithClusters([], { order: buildOrder({ orderType: 'limit', limitPrice, quantity: 0.1 }) }));
    expect(codes(v).includes('PRICE_COLLAR')).toBe(collar);
  });
});
