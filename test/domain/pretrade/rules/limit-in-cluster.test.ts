import { describe, expect, it } from 'vitest';
import { evaluatePretrade, floorToStep } from '../../../../src/domain/pretrade/evaluate.js';
import { MARK, WEEKDAY_2130, buildOrder, buildPolicy, clusterAt, contextWithClusters } from '../factories.js';
import { codes, expectConsistent, warningCodes } from '../verdicts.js';

describe('evaluatePretrade: limit prices in cluster zones (rules 3 and 5)', () => {
  // Passive buy limits below the mark 100,000. Major long zone 96,800-97,000 (300 bps
  // below), non-major long zone 97,800-98,000 (200 bps below): each test uses one of them.
  const major = clusterAt('long', 300);
  const minor = clusterAt('long', 200, { major: false, notionalUsd: 5_000_000 });
  const actions = ['reject', 'resize'] as const;
  const policyFor = (limitInClusterAction: (typeof actions)[number], extra: Parameters<typeof buildPolicy>[0] = {}) =>
    buildPolicy({ limitInClusterAction, limitInClusterSizeFactor: 0.25, ...extra });
  const limitAt = (
    clusters: ReturnType<typeof clusterAt>[],
    action: (typeof actions)[number],
    limitPrice: number,
    quantity = 1,
    extra: Partial<Parameters<typeof buildOrder>[0]> = {},
  ) =>
    evaluatePretrade(
      contextWithClusters(clusters, { policy: policyFor(action), order: buildOrder({ orderType: 'limit', limitPrice, quantity, ...extra }) }),
    );

  it.each(actions)('when a passive limit lies inside a MAJOR zone (%s), then REJECT LIMIT_PRICE_IN_CLUSTER', (action) => {
    for (const p of [major.peakPrice, major.priceLow, major.priceHigh]) {
      const v = limitAt([major], action, p, 0.1);
      expect(v.decision).toBe('REJECT');
      expect(codes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
      expect(v.reasons[0]?.message).toMatch(/inside the major long cluster/);
      expectConsistent(v);
    }
  });

  it.each(actions)('when a passive limit lies outside a MAJOR zone but within its buffer (%s), then REJECT NO_TRADE_BUFFER', (action) => {
    for (const p of [major.priceHigh + 1, major.priceHigh + 100, major.priceHigh + 300, major.priceLow - 300]) {
      const v = limitAt([major], action, p, 0.1);
      expect(v.decision).toBe('REJECT');
      expect(codes(v)).toEqual(['NO_TRADE_BUFFER']);
      expectConsistent(v);
    }
  });

  it.each(actions)('when a passive limit lies just beyond a MAJOR buffer (%s), then no cluster rule rejects it', (action) => {
    const v = limitAt([major], action, major.priceHigh + 301, 0.1);
    expect(v.decision).toBe('APPROVE');
    expect(warningCodes(v)).toEqual(['CLUSTER_PROXIMITY']);
  });

  it('when a passive limit lies inside a NON-major zone with reject, then REJECT LIMIT_PRICE_IN_CLUSTER', () => {
    const v = limitAt([minor], 'reject', minor.peakPrice);
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
    expect(v.reasons[0]).toMatchObject({ limit: `${minor.priceLow}-${minor.priceHigh}`, observed: minor.peakPrice });
    expect(v.reasons[0]?.message).toMatch(/not major/);
    expectConsistent(v);
  });

  it.each([
    { where: 'at its peak', price: minor.peakPrice },
    { where: 'on its upper edge', price: minor.priceHigh },
    { where: 'on its lower edge', price: minor.priceLow },
  ])('when a passive limit lies inside a NON-major zone ($where) with resize, then RESIZE to the factor x requested', ({ price }) => {
    const v = limitAt([minor], 'resize', price, 1);
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25 });
    expect(v.approvedNotional).toBeCloseTo(0.25 * MARK, 6); // valued at the mark: the limit is below it
    expect(codes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
    expect(v.reasons[0]?.message).toMatch(/not major.*0\.25 of the requested size/);
    expectConsistent(v);
  });

  it.each(actions)('when a passive limit lies just outside a NON-major zone (%s), then no LIMIT_PRICE_IN_CLUSTER', (action) => {
    for (const p of [minor.priceHigh + 0.01, minor.priceLow - 0.01]) {
      const v = limitAt([minor], action, p);
      expect(v.decision).toBe('APPROVE');
      expect(codes(v)).toEqual([]);
      expect(warningCodes(v)).not.toContain('LIMIT_PRICE_IN_CLUSTER');
    }
  });

  it('when the non-major resize cap meets a tighter cap, then the smaller one wins and both are named', () => {
    // 21:30 UTC: the time-of-day cap is 610,000 USD = 6.22 BTC at 98,000; 0.25 x 30 = 7.5 BTC.
    const ctx = contextWithClusters([minor], {
      now: WEEKDAY_2130,
      policy: policyFor('resize'),
      order: buildOrder({ orderType: 'limit', limitPrice: minor.priceHigh, quantity: 30 }),
    });
    const v = evaluatePretrade(ctx);
    expect(v.decision).toBe('REJECT'); // 30 BTC is far above max notional (reject by default)
    const resized = evaluatePretrade({ ...ctx, policy: { ...ctx.policy, maxNotionalAction: 'resize' } });
    expect(resized.decision).toBe('RESIZE');
    expect(resized.approvedQuantity).toBe(floorToStep((1_000_000 * 0.61) / MARK, 0.001));
    expect(codes(resized)).toEqual(expect.arrayContaining(['LIMIT_PRICE_IN_CLUSTER', 'TIME_OF_DAY', 'MAX_NOTIONAL']));
  });

  it('when the non-major resize factor is 1, then the order passes in full with a LIMIT_PRICE_IN_CLUSTER warning', () => {
    const v = evaluatePretrade(
      contextWithClusters([minor], {
        policy: policyFor('resize', { limitInClusterSizeFactor: 1 }),
        order: buildOrder({ orderType: 'limit', limitPrice: minor.peakPrice, quantity: 0.123 }),
      }),
    );
    expect(v).toMatchObject({ decision: 'APPROVE', approvedQuantity: 0.123, reasons: [] });
    expect(warningCodes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
  });

  it('when more is asked inside a NON-major zone with resize, then more is approved (factor x requested is monotone)', () => {
    const approved = [0.1, 0.5, 1, 2, 4].map((q) => limitAt([minor], 'resize', minor.peakPrice, q).approvedQuantity);
    expect(approved).toEqual([0.025, 0.125, 0.25, 0.5, 1]);
  });

  it('when clusterSides is adverse, then a NON-major zone on the other side does not count', () => {
    // A passive sell limit above the mark inside a non-major LONG zone (longs would not cascade against a sell).
    const above = clusterAt('short', 200, { side: 'long', major: false });
    const order = buildOrder({ orderType: 'limit', side: 'sell', limitPrice: above.peakPrice, quantity: 1 });
    const adverse = evaluatePretrade(contextWithClusters([above], { policy: policyFor('reject', { clusterSides: 'adverse' }), order }));
    expect(adverse.decision).toBe('APPROVE');
    const any = evaluatePretrade(contextWithClusters([above], { policy: policyFor('reject'), order }));
    expect(codes(any)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
  });

  it.each(actions)('when a MARKETABLE limit lies inside a NON-major zone (%s), then it is judged like a market order', (action) => {
    // Non-major short zone 100,200-100,400 above the mark; a buy limit at 100,300 reaches the asks.
    const zone = clusterAt('short', 20, { major: false });
    const v = limitAt([zone], action, zone.peakPrice, 1);
    const mkt = evaluatePretrade(contextWithClusters([zone], { policy: policyFor(action), order: buildOrder({ quantity: 1 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(v.expectedSlippageBps).not.toBeNull();
    expect(codes(v)).toEqual(codes(mkt));
  });

  it.each(actions)('when a MARKETABLE limit lies inside a MAJOR zone (%s), then REJECT with LIMIT_PRICE_IN_CLUSTER and NO_TRADE_BUFFER', (action) => {
    const zone = clusterAt('short', 20);
    const v = limitAt([zone], action, zone.peakPrice, 0.1);
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER', 'NO_TRADE_BUFFER']);
  });

  it.each(
    actions.flatMap((action) => [
      { action, where: 'inside a major zone', clusters: [major], price: major.peakPrice },
      { action, where: 'within a major buffer', clusters: [major], price: major.priceHigh + 100 },
      { action, where: 'inside a non-major zone', clusters: [minor], price: minor.peakPrice },
    ]),
  )('when a reduce-only limit lies $where ($action), then it is approved in full', ({ action, clusters, price }) => {
    const v = limitAt(clusters, action, price, 3, { reduceOnly: true });
    expect(v).toMatchObject({ decision: 'APPROVE', approvedQuantity: 3, reasons: [] });
  });

  it('when no action is configured, then a limit inside a non-major zone is resized (the default is resize) and one inside a major zone rejected', () => {
    expect(buildPolicy().limitInClusterAction).toBe('resize');
    const order = (limitPrice: number) => buildOrder({ orderType: 'limit', limitPrice, quantity: 1 });
    expect(evaluatePretrade(contextWithClusters([minor], { order: order(minor.peakPrice) }))).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25 });
    expect(evaluatePretrade(contextWithClusters([major], { order: order(major.peakPrice) })).decision).toBe('REJECT');
  });
});
