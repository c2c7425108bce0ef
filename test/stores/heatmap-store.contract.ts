import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HeatmapSnapshot, HeatmapStore, NewHeatmapSnapshot } from '../../src/stores/heatmap-store.js';
import type { Heatmap } from '../../src/domain/heatmap/types.js';
import { waitUntil } from '../helpers/redis-server.js';

export const CONTRACT_HISTORY = { retentionMs: 10 * 60_000, intervalMs: 60_000, maxEntries: 5 };

export interface StoreUnderTest {
  store: HeatmapStore;
  /** Releases whatever the factory opened (keys, clients). */
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 6, 12, 0, 0);

export function buildHeatmap(overrides: Partial<Heatmap> = {}): Heatmap {
  return {
    symbol: 'BTCUSDT',
    venues: ['binanceusdm'],
    asOf: T0,
    markPrice: 97_123.456_789_012_3,
    binBps: 10,
    rangePct: 0.15,
    bins: [
      { price: 96_000.1, longUsd: 1_234_567.891, shortUsd: 0, probability: 0.6 },
      { price: 98_000.2, longUsd: 0, shortUsd: 823_045.260_7, probability: 0.4 },
    ],
    clusters: [
      {
        side: 'long',
        peakPrice: 96_000.1,
        priceLow: 95_950,
        priceHigh: 96_050,
        notionalUsd: 1_234_567.891,
        share: 0.6,
        distanceBps: -111.5,
        major: true,
      },
    ],
    crowding: { side: 'neutral', strength: 0.1, fundingRate: 0.0001, oiChangePct: 0.01 },
    risk: { score: 42.5, inputs: { proximity: 0.3 } },
    totalLongUsd: 1_234_567.891,
    totalShortUsd: 823_045.260_7,
    openInterestUsd: 5e9,
    ...overrides,
  };
}

export function buildSnapshot(overrides: Partial<NewHeatmapSnapshot> = {}): NewHeatmapSnapshot {
  const symbol = overrides.symbol ?? 'BTCUSDT';
  const asOf = overrides.asOf ?? T0;
  return {
    symbol,
    asOf,
    source: 'sim',
    venues: ['binanceusdm'],
    heatmap: buildHeatmap({ symbol, asOf }),
    orderBook: { ts: asOf, bids: [{ price: 97_120.5, size: 1.25 }], asks: [{ price: 97_125.5, size: 0.75 }] },
    ...overrides,
  };
}

/** Resolves with the next announcement matching `pred`. */
async function nextAnnouncement(
  store: HeatmapStore,
  pred: (symbol: string, version: number) => boolean,
): Promise<{ wait: Promise<[string, number]>; stop: () => Promise<void> }> {
  let resolve!: (v: [string, number]) => void;
  const wait = new Promise<[string, number]>((r) => (resolve = r));
  const stop = await store.subscribe((s, v) => {
    if (pred(s, v)) resolve([s, v]);
  });
  return { wait, stop };
}

/**
 * The behaviour every HeatmapStore must have. `make` builds a store configured with
 * CONTRACT_HISTORY on fresh, isolated state.
 */
export function heatmapStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`HeatmapStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: HeatmapStore;
    beforeEach(async () => {
      sut = await make();
      store = sut.store;
    });
    afterEach(async () => {
      await sut.cleanup();
    });

    it('when nothing was written, then latest and history are empty', async () => {
      expect(await store.getLatest('BTCUSDT')).toBeNull();
      expect(await store.getAt('BTCUSDT', T0)).toBeNull();
    });

    it('when a snapshot is written, then it reads back exactly, with version 1', async () => {
      const snap = buildSnapshot();
      const r = await store.put(snap);
      expect(r).toEqual({ accepted: true, version: 1 });
      const back = await store.getLatest('BTCUSDT');
      expect(back).toEqual({ ...snap, version: 1 } satisfies HeatmapSnapshot);
    });

    it('when a snapshot carries the venues\' trading rules, volatility and funding regime, then they read back exactly, latest and from history', async () => {
      const snap = buildSnapshot({
        spec: { tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 120, minNotionalUsd: 100, maxLeverage: null },
        heatmap: buildHeatmap({
          volatility: { realizedBpsPerHour: 48.25, bars: 12 },
          funding: { rate: 0.000125, percentile: 0.93, samples: 864 },
        }),
      });
      await store.put(snap);
      expect(await store.getLatest('BTCUSDT')).toEqual({ ...snap, version: 1 });
      expect(await store.getAt('BTCUSDT', T0)).toEqual({ ...snap, version: 1 });
    });

    it('when the source publishes no trading rules and the model knows too little, then null fields read back as null', async () => {
      const snap = buildSnapshot({
        spec: null,
        heatmap: buildHeatmap({ volatility: { realizedBpsPerHour: null, bars: 3 }, funding: { rate: null, percentile: null, samples: 0 } }),
      });
      await store.put(snap);
      expect(await store.getLatest('BTCUSDT')).toEqual({ ...snap, version: 1 });
    });

    it('when written twice, then versions grow per symbol and symbols are independent', async () => {
      await store.put(buildSnapshot());
      const second = await store.put(buildSnapshot({ asOf: T0 + 1_000 }));
      const eth = await store.put(buildSnapshot({ symbol: 'ETHUSDT' }));
      expect(second.version).toBe(2);
      expect(eth.version).toBe(1);
      expect((await store.getLatest('BTCUSDT'))?.asOf).toBe(T0 + 1_000);
      expect((await store.getLatest('ETHUSDT'))?.symbol).toBe('ETHUSDT');
    });

    it('when the written snapshot still carries an old version, then the store assigns its own', async () => {
      await store.put(buildSnapshot());
      const old = (await store.getLatest('BTCUSDT'))!;
      const r = await store.put({ ...old, asOf: T0 + 1 });
      expect(r.version).toBe(2);
      expect((await store.getLatest('BTCUSDT'))?.version).toBe(2);
    });

    it('when a reader mutates what it got, then the stored snapshot is unchanged', async () => {
      await store.put(buildSnapshot());
      const a = await store.getLatest('BTCUSDT');
      a!.heatmap.bins.length = 0;
      expect((await store.getLatest('BTCUSDT'))!.heatmap.bins).toHaveLength(2);
    });

    it('when a smaller fencing token writes after a larger one, then the write is refused and latest is kept', async () => {
      await store.put(buildSnapshot({ asOf: T0 }), { fencingToken: 5 });
      const stale = await store.put(buildSnapshot({ asOf: T0 + 5_000 }), { fencingToken: 4 });
      expect(stale).toEqual({ accepted: false, version: 1 });
      expect((await store.getLatest('BTCUSDT'))?.asOf).toBe(T0);
    });

    it('when the same or a larger fencing token writes, then the write is accepted', async () => {
      await store.put(buildSnapshot(), { fencingToken: 5 });
      expect((await store.put(buildSnapshot({ asOf: T0 + 1 }), { fencingToken: 5 })).accepted).toBe(true);
      expect((await store.put(buildSnapshot({ asOf: T0 + 2 }), { fencingToken: 6 })).accepted).toBe(true);
      expect((await store.put(buildSnapshot({ asOf: T0 + 3 }), { fencingToken: 5 })).accepted).toBe(false);
    });

    it('when fencing on one symbol, then another symbol is not fenced', async () => {
      await store.put(buildSnapshot(), { fencingToken: 9 });
      expect((await store.put(buildSnapshot({ symbol: 'ETHUSDT' }), { fencingToken: 1 })).accepted).toBe(true);
    });

    it('when asked for a past time, then the newest snapshot at or before it is returned', async () => {
      for (let i = 0; i < 3; i++) await store.put(buildSnapshot({ asOf: T0 + i * 60_000 }));
      expect((await store.getAt('BTCUSDT', T0 + 90_000))?.asOf).toBe(T0 + 60_000);
      expect((await store.getAt('BTCUSDT', T0 + 60_000))?.asOf).toBe(T0 + 60_000);
      expect((await store.getAt('BTCUSDT', T0 + 10 * 60_000))?.asOf).toBe(T0 + 120_000);
      expect(await store.getAt('BTCUSDT', T0 - 1)).toBeNull();
      expect((await store.getAt('BTCUSDT', T0))?.version).toBe(1);
    });

    it('when writes come faster than the history interval, then history keeps one per interval but latest is always newest', async () => {
      await store.put(buildSnapshot({ asOf: T0 }));
      await store.put(buildSnapshot({ asOf: T0 + 10_000 }));
      await store.put(buildSnapshot({ asOf: T0 + 20_000 }));
      await store.put(buildSnapshot({ asOf: T0 + 61_000 }));
      // 30 s after T0: the 10 s and 20 s writes were not kept as history.
      expect((await store.getAt('BTCUSDT', T0 + 30_000))?.asOf).toBe(T0);
      expect((await store.getAt('BTCUSDT', T0 + 61_000))?.asOf).toBe(T0 + 61_000);
    });

    it('when the latest is newer than the last history entry, then a time after it is answered by the latest', async () => {
      await store.put(buildSnapshot({ asOf: T0 }));
      await store.put(buildSnapshot({ asOf: T0 + 30_000 }));
      expect((await store.getAt('BTCUSDT', T0 + 40_000))?.asOf).toBe(T0 + 30_000);
    });

    it('when history exceeds its entry cap, then the oldest entries are dropped', async () => {
      for (let i = 0; i < 8; i++) await store.put(buildSnapshot({ asOf: T0 + i * 60_000 }));
      // Cap 5: T0+3m..T0+7m are kept.
      expect(await store.getAt('BTCUSDT', T0 + 2 * 60_000 + 1)).toBeNull();
      expect((await store.getAt('BTCUSDT', T0 + 3 * 60_000))?.asOf).toBe(T0 + 3 * 60_000);
    });

    it('when entries are older than the retention, then they are dropped', async () => {
      await store.put(buildSnapshot({ asOf: T0 }));
      await store.put(buildSnapshot({ asOf: T0 + 60_000 }));
      await store.put(buildSnapshot({ asOf: T0 + 11 * 60_000 }));
      // Retention 10 min before the newest (T0+11m): T0 is gone, T0+1m is kept.
      expect(await store.getAt('BTCUSDT', T0 + 30_000)).toBeNull();
      expect((await store.getAt('BTCUSDT', T0 + 2 * 60_000))?.asOf).toBe(T0 + 60_000);
    });

    it('when a write is accepted, then subscribers hear (symbol, version)', async () => {
      const { wait, stop } = await nextAnnouncement(store, (s) => s === 'ETHUSDT');
      await store.put(buildSnapshot({ symbol: 'ETHUSDT' }));
      expect(await wait).toEqual(['ETHUSDT', 1]);
      await stop();
    });

    it('when a write is fenced off, then nothing is announced for it', async () => {
      const heard: number[] = [];
      const stopAll = await store.subscribe((_s, v) => heard.push(v));
      await store.put(buildSnapshot(), { fencingToken: 2 });
      await store.put(buildSnapshot({ asOf: T0 + 1 }), { fencingToken: 1 });
      const { wait, stop } = await nextAnnouncement(store, (_s, v) => v === 2);
      await store.put(buildSnapshot({ asOf: T0 + 2 }), { fencingToken: 2 });
      await wait;
      expect(heard).toEqual([1, 2]);
      await stop();
      await stopAll();
    });

    it('when a listener unsubscribes, then it hears nothing more while others still do', async () => {
      const gone: number[] = [];
      const unsubscribe = await store.subscribe((_s, v) => gone.push(v));
      await unsubscribe();
      const { wait, stop } = await nextAnnouncement(store, () => true);
      await store.put(buildSnapshot());
      await wait;
      expect(gone).toEqual([]);
      await stop();
    });

    it('when a snapshot has a NaN or infinite number, then the write is refused and nothing is stored or announced', async () => {
      const heard: number[] = [];
      const stop = await store.subscribe((_s, v) => heard.push(v));
      const good = buildSnapshot();
      await store.put(good);
      const nanBound = buildSnapshot({ heatmap: buildHeatmap({ clusters: [{ ...good.heatmap.clusters[0]!, priceLow: Number.NaN }] }) });
      await expect(store.put(nanBound)).rejects.toThrow(/non-finite.*heatmap\.clusters\[0\]\.priceLow/);
      await expect(store.put(buildSnapshot({ asOf: Number.POSITIVE_INFINITY }))).rejects.toThrow(/non-finite.*asOf/);
      expect((await store.getLatest('BTCUSDT'))?.version).toBe(1);
      // Announcements arrive asynchronously (Redis pub/sub): a good write after the refused
      // ones, heard in order, shows that nothing was announced in between.
      await store.put(buildSnapshot({ asOf: good.asOf + 1 }));
      await waitUntil(async () => heard.includes(2), 5_000, 'the announcement of version 2');
      expect(heard).toEqual([1, 2]);
      await stop();
    });

    it('when a snapshot is off the schema (a zero mark price, a funding percentile above 1), then the write is refused naming the field', async () => {
      await expect(store.put(buildSnapshot({ heatmap: buildHeatmap({ markPrice: 0 }) }))).rejects.toThrow(/heatmap\.markPrice/);
      const funding = { rate: 0.0001, percentile: 1.5, samples: 300 };
      await expect(store.put(buildSnapshot({ heatmap: buildHeatmap({ funding }) }))).rejects.toThrow(/heatmap\.funding\.percentile/);
      expect(await store.getLatest('BTCUSDT')).toBeNull();
    });

    it('when the backend is up, then ping resolves', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
