import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { HeatmapCache } from '../../../src/modules/heatmaps/cache.js';
import type { HeatmapSnapshot, HeatmapStore } from '../../../src/stores/heatmap-store.js';
import { createMemoryHeatmapStore } from '../../../src/stores/heatmap-store.memory.js';
import { buildSnapshot } from '../../stores/heatmap-store.contract.js';

const HISTORY = { retentionMs: 3_600_000, intervalMs: 60_000, maxEntries: 61 };

/** A store whose getLatest calls are counted and can be held until released. */
function buildCountingStore() {
  const inner = createMemoryHeatmapStore(HISTORY);
  let gets = 0;
  let gate: Promise<void> | null = null;
  let open!: () => void;
  const store: HeatmapStore = {
    ...inner,
    getLatest: async (s) => {
      gets += 1;
      const r = await inner.getLatest(s);
      if (gate) await gate;
      return r;
    },
  };
  return {
    store,
    inner,
    gets: () => gets,
    hold: () => {
      gate = new Promise((r) => (open = r));
    },
    release: () => {
      gate = null;
      open();
    },
  };
}

const snap = (version: number, asOf: number): HeatmapSnapshot => ({ ...buildSnapshot({ asOf }), version });
const settle = () => new Promise((r) => setImmediate(r));

describe('heatmap cache', () => {
  it('when an older version arrives after a newer one, then the newer one is kept', () => {
    const cache = new HeatmapCache(createMemoryHeatmapStore(HISTORY), createLogger('silent'));
    expect(cache.apply(snap(3, 3_000))).toBe(true);
    expect(cache.apply(snap(2, 2_000))).toBe(false);
    expect(cache.apply(snap(3, 3_000))).toBe(false);
    expect(cache.get('BTCUSDT')?.version).toBe(3);
  });

  it('when the store was wiped (lower version, later time), then the new map is taken', () => {
    const cache = new HeatmapCache(createMemoryHeatmapStore(HISTORY), createLogger('silent'));
    cache.apply(snap(40, 1_000));
    expect(cache.apply(snap(1, 2_000))).toBe(true);
    expect(cache.get('BTCUSDT')?.version).toBe(1);
  });

  it('when a version is announced, then it is fetched once; announcing one it already has fetches nothing', async () => {
    const s = buildCountingStore();
    const cache = new HeatmapCache(s.store, createLogger('silent'));
    await s.inner.put(buildSnapshot());
    cache.announced('BTCUSDT', 1);
    await settle();
    expect(cache.get('BTCUSDT')?.version).toBe(1);
    cache.announced('BTCUSDT', 1);
    await settle();
    expect(s.gets()).toBe(1);
  });

  it('when versions are announced while a fetch is in flight, then they coalesce into at most one more fetch', async () => {
    const s = buildCountingStore();
    const cache = new HeatmapCache(s.store, createLogger('silent'));
    await s.inner.put(buildSnapshot({ asOf: 1 }));
    s.hold();
    cache.announced('BTCUSDT', 1);
    for (let v = 2; v <= 5; v++) {
      await s.inner.put(buildSnapshot({ asOf: v }));
      cache.announced('BTCUSDT', v);
    }
    s.release();
    for (let i = 0; i < 5; i++) await settle();
    expect(cache.get('BTCUSDT')?.version).toBe(5);
    expect(s.gets()).toBe(2);
  });
});
