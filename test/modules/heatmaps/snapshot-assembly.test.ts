import { describe, expect, it } from 'vitest';
import type { Bar } from '../../../src/domain/market-data.js';
import { createHeatmapModel, HeatmapParamsSchema } from '../../../src/domain/heatmap/index.js';
import type { MarketTick } from '../../../src/market/market-source.js';
import { assembleSnapshot, createAssemblyState, lastBarCloseAt, LIQUIDATION_FUTURE_TOLERANCE_MS, RECENT_LIQUIDATIONS, usableLiquidations, type VenueFetch } from '../../../src/modules/heatmaps/snapshot-assembly.js';
import { notionalBetween } from '../../../src/domain/heatmap/index.js';
import type { RealizedLiquidation } from '../../../src/domain/market-data.js';

// The poller's pure half: no timers, no leases, no store.

const PARAMS = HeatmapParamsSchema.parse({});
const BAR = 60_000;
const NOW = 1_767_225_600_000;

function buildBars(n: number, lastCloseAt: number, price = 100_000): Bar[] {
  return Array.from({ length: n }, (_, i) => {
    const ts = lastCloseAt - (n - i) * BAR;
    const close = price * (1 + 0.01 * Math.sin(i / 9));
    return { ts, open: close * 0.999, high: close * 1.002, low: close * 0.998, close, volume: 10, openInterestUsd: 1e9 * (1 + i / 400) };
  });
}

function buildTick(overrides: Partial<MarketTick> = {}): MarketTick {
  return {
    markPrice: 100_000,
    fundingRate: 0.0001,
    orderBook: { ts: NOW, bids: [{ price: 99_999, size: 1 }], asks: [{ price: 100_001, size: 1 }] },
    ts: NOW,
    spec: null,
    ...overrides,
  };
}

function buildState(opts: { barMs?: number } = { barMs: BAR }) {
  return createAssemblyState(createHeatmapModel('BTCUSDT', PARAMS), opts.barMs);
}

const fetched = (venue: string, over: Partial<VenueFetch> = {}): VenueFetch => ({ venue, bars: buildBars(300, NOW), tick: buildTick(), failure: null, ...over });
const input = (f: VenueFetch[], now = NOW) => ({ symbol: 'BTCUSDT', source: 'ccxt' as const, now, barMaxAgeMs: 5 * BAR, fetched: f });

describe('snapshot assembly', () => {
  it('when two venues answer with fresh bars, then the snapshot is as of now, with the median mark and the deeper book', () => {
    const deep = { ts: NOW, bids: [{ price: 99_990, size: 50 }], asks: [{ price: 100_010, size: 50 }] };
    const out = assembleSnapshot(
      buildState(),
      input([fetched('binanceusdm', { tick: buildTick({ markPrice: 100_000, orderBook: deep }) }), fetched('bybit', { tick: buildTick({ markPrice: 100_100 }) })]),
    );
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.snapshot.asOf).toBe(NOW);
    expect(out.snapshot.dataAsOf).toBe(NOW);
    expect(out.snapshot.venues).toEqual(['binanceusdm', 'bybit']);
    expect(out.snapshot.heatmap.markPrice).toBe(100_050);
    expect(out.snapshot.orderBook).toEqual(deep);
    expect(out.contributing).toEqual(['binanceusdm', 'bybit']);
  });

  it('when the snapshot has a book, then its heatmap\'s cascades walk that book; with no venue book, they walk none (to the cap)', () => {
    const deep = { ts: NOW, bids: [{ price: 99_990, size: 50 }], asks: [{ price: 100_010, size: 50 }] };
    const withBook = assembleSnapshot(buildState(), input([fetched('binanceusdm', { tick: buildTick({ orderBook: deep }) })]));
    const noBook = assembleSnapshot(buildState(), input([fetched('binanceusdm', { tick: buildTick({ orderBook: null }) })]));
    if (!withBook.ok || !noBook.ok) throw new Error('expected snapshots');
    expect(withBook.snapshot.heatmap.cascades?.depth).toBe('book');
    expect(noBook.snapshot.orderBook).toBeNull();
    expect(noBook.snapshot.heatmap.cascades?.depth).toBe('none');
  });

  it('when a venue\'s newest bar is older than the limit, then it does not contribute and dataAsOf is the others\' bar close', () => {
    const out = assembleSnapshot(buildState(), input([fetched('binanceusdm'), fetched('okx', { bars: buildBars(300, NOW - 10 * BAR) })]));
    expect(out.ok && out.snapshot.venues).toEqual(['binanceusdm']);
    expect(out.ok && out.snapshot.dataAsOf).toBe(NOW);
  });

  it('when no venue answered, then there is no snapshot and the error names each venue\'s failure', () => {
    const out = assembleSnapshot(buildState(), input([fetched('binanceusdm', { bars: null, tick: null, failure: 'open (boom)' })]));
    expect(out).toEqual({ ok: false, error: 'no venue answered: binanceusdm: open (boom)' });
  });

  it('when bars arrived but the tick failed, then the bars are kept in the model for the next poll', () => {
    const state = buildState();
    const out = assembleSnapshot(state, input([fetched('bybit', { tick: null, failure: 'closed (timeout)' })]));
    expect(out.ok).toBe(false);
    expect(lastBarCloseAt(state, 'bybit')).toBe(NOW);
    const next = assembleSnapshot(state, input([fetched('bybit', { bars: [] })], NOW + 1_000));
    expect(next.ok && next.snapshot.dataAsOf).toBe(NOW);
  });

  it('when every answering venue is stale, then the error says how old each one\'s data is', () => {
    const out = assembleSnapshot(buildState(), input([fetched('okx', { bars: buildBars(10, NOW - 60 * BAR) })]));
    expect(out.ok).toBe(false);
    expect(!out.ok && out.error).toContain(`okx: last bar closed ${new Date(NOW - 60 * BAR).toISOString()}`);
  });

  it('when the bar duration is not given, then it is learned from the bars', () => {
    const state = buildState({});
    const out = assembleSnapshot(state, input([fetched('binanceusdm')]));
    expect(state.inferredBarMs.get('binanceusdm')).toBe(BAR);
    expect(out.ok).toBe(true);
  });

  it('when one of three venues fails, then the snapshot carries a confidence with two-thirds venue coverage and an unknown health', () => {
    const out = assembleSnapshot(buildState(), input([fetched('binanceusdm'), fetched('bybit'), fetched('okx', { bars: null, tick: null, failure: 'open (boom)' })]));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.snapshot.health).toMatchObject({ status: 'unknown', events: 0 });
    const c = out.snapshot.confidence;
    expect(c?.venueCoverage).toBeCloseTo(2 / 3);
    expect(c?.accuracy).toBe(PARAMS.health.unknownAccuracy);
    expect(c?.unlocatedShare).toBeGreaterThan(0);
    expect(c?.value).toBe(Math.min(1 - (c?.unlocatedShare ?? 1), c?.venueCoverage ?? 0, c?.accuracy ?? 0));
  });

  it('when venues report realized liquidations, then they count towards the health of the period in progress', () => {
    const state = buildState();
    assembleSnapshot(state, input([fetched('binanceusdm')]));
    const event = { ts: NOW + 500, side: 'long' as const, price: 99_900, usd: 50_000 };
    assembleSnapshot(state, input([fetched('binanceusdm', { bars: [], liquidations: [event] })], NOW + 1_000));
    const closing = NOW + PARAMS.health.periodMinutes * 60_000;
    const out = assembleSnapshot(state, input([fetched('binanceusdm', { bars: buildBars(1, closing) })], closing));
    expect(out.ok && out.snapshot.health).toMatchObject({ events: 1, periods: 1 });
  });
});

describe('snapshot assembly: realized liquidations', () => {
  const liq = (overrides: Partial<RealizedLiquidation> = {}): RealizedLiquidation => ({ ts: NOW - 30_000, side: 'long', price: 99_500, usd: 2e6, ...overrides });

  it('when a venue reports realized liquidations, then the snapshot lists them newest first, tagged with the venue, and the model lost that side\'s notional near them', () => {
    const plain = buildState();
    assembleSnapshot(plain, input([fetched('bybit')]));
    const state = buildState();
    const events = [liq({ ts: NOW - 50_000, price: 98_500 }), liq({ ts: NOW - 10_000, side: 'short', price: 101_500, usd: 1e6, venue: 'binanceusdm' })];
    const out = assembleSnapshot(state, input([fetched('bybit', { liquidations: events })]));
    expect(out.ok && out.snapshot.recentLiquidations).toEqual([
      { ts: NOW - 10_000, side: 'short', price: 101_500, usd: 1e6, venue: 'binanceusdm' },
      { ts: NOW - 50_000, side: 'long', price: 98_500, usd: 2e6, venue: 'bybit' },
    ]);
    const near = (s: typeof state, side: 'long' | 'short', p: number) => notionalBetween(s.model, side, p * 0.995, p * 1.005);
    expect(near(plain, 'long', 98_500)).toBeGreaterThan(2e6);
    expect(near(plain, 'short', 101_500)).toBeGreaterThan(1e6);
    expect(near(state, 'long', 98_500)).toBeCloseTo(near(plain, 'long', 98_500) - 2e6, -2);
    expect(near(state, 'short', 101_500)).toBeCloseTo(near(plain, 'short', 101_500) - 1e6, -2);
  });

  it('when the same events come again, then they are neither applied nor listed twice', () => {
    const state = buildState();
    const events = [liq()];
    assembleSnapshot(state, input([fetched('binanceusdm', { liquidations: events })]));
    const again = assembleSnapshot(state, input([fetched('binanceusdm', { bars: [], liquidations: events })], NOW + 1_000));
    expect(again.ok && again.snapshot.recentLiquidations).toHaveLength(1);
  });

  it('when events age past the window, then they leave the snapshot, and a snapshot with none carries no field', () => {
    const state = buildState();
    assembleSnapshot(state, input([fetched('binanceusdm', { liquidations: [liq()] })]));
    const later = NOW - 30_000 + RECENT_LIQUIDATIONS.windowMs + 1;
    const out = assembleSnapshot(state, { ...input([fetched('binanceusdm', { bars: buildBars(300, later) })], later) });
    expect(out.ok).toBe(true);
    expect(out.ok && 'recentLiquidations' in out.snapshot).toBe(false);
  });

  it('when a venue sends an event dated in the future or malformed, then it is dropped and the real events after it still reach the map', () => {
    const state = buildState();
    const bad = [
      liq({ ts: NOW + LIQUIDATION_FUTURE_TOLERANCE_MS + 3_600_000 }),
      liq({ ts: Number.NaN }),
      liq({ usd: Number.POSITIVE_INFINITY }),
      liq({ price: -1 }),
      { ...liq(), side: 'sell' } as unknown as RealizedLiquidation,
    ];
    const first = usableLiquidations([...bad, liq({ ts: NOW - 40_000 })], NOW);
    expect(first).toEqual({ usable: [liq({ ts: NOW - 40_000 })], dropped: bad.length });
    assembleSnapshot(state, input([fetched('binanceusdm', { liquidations: first.usable })]));
    // A later real event is still new: no bad event moved the venue's cursor past it.
    const later = usableLiquidations([liq({ ts: NOW + 500, side: 'short', price: 101_000 })], NOW + 1_000);
    const out = assembleSnapshot(state, input([fetched('binanceusdm', { bars: [], liquidations: later.usable })], NOW + 1_000));
    expect(out.ok && out.snapshot.recentLiquidations?.map((e) => e.ts)).toEqual([NOW + 500, NOW - 40_000]);
  });

  it('when an event is dated just ahead of the clock, within the venue-clock tolerance, then it is kept', () => {
    expect(usableLiquidations([liq({ ts: NOW + LIQUIDATION_FUTURE_TOLERANCE_MS })], NOW).dropped).toBe(0);
  });

  it('when more events arrive than the snapshot keeps, then the newest are kept', () => {
    const state = buildState();
    const many = Array.from({ length: RECENT_LIQUIDATIONS.max + 5 }, (_, i) => liq({ ts: NOW - 100_000 + i, usd: 1_000 }));
    const out = assembleSnapshot(state, input([fetched('binanceusdm', { liquidations: many })]));
    const kept = out.ok ? (out.snapshot.recentLiquidations ?? []) : [];
    expect(kept).toHaveLength(RECENT_LIQUIDATIONS.max);
    expect(kept[0]!.ts).toBe(NOW - 100_000 + RECENT_LIQUIDATIONS.max + 4);
  });
});
