import { describe, expect, it } from 'vitest';
import { createHeatmapModel } from '../../../src/domain/heatmap/index.js';
import { buildBars, buildParams, T0 } from './factories.js';

/** Two venues with different histories: rising OI and positive funding on one, falling price on the other. */
function buildTwoVenueModel() {
  const model = createHeatmapModel('BTCUSDT', buildParams());
  const up = buildBars(Array.from({ length: 40 }, (_, i) => ({ close: 100 + i * 0.2, high: 100.5 + i * 0.2, openInterestUsd: 1_000 + 50 * i, fundingRate: 0.0003 })));
  const down = buildBars(Array.from({ length: 40 }, (_, i) => ({ close: 100 - i * 0.1, low: 99.5 - i * 0.1, openInterestUsd: 5_000 - 20 * i, fundingRate: -0.0001 })));
  model.ingest('okx', up);
  model.ingest('binance', down);
  return { model, up, down };
}

describe('heatmap build limited to some venues', () => {
  it('when the venues option is absent, then the map aggregates every venue (unchanged default)', () => {
    const { model } = buildTwoVenueModel();
    const all = model.build({ markPrice: 100, now: T0 + 40 * 1_800_000 });
    expect(all.venues).toEqual(['binance', 'okx']);
    expect(model.build({ markPrice: 100, now: T0 + 40 * 1_800_000, venues: ['okx', 'binance'] })).toEqual(all);
  });

  it('when only one venue is asked for, then the map equals a model that ingested that venue alone', () => {
    const { model, up } = buildTwoVenueModel();
    const alone = createHeatmapModel('BTCUSDT', buildParams());
    alone.ingest('okx', up);
    const opts = { markPrice: 104, now: T0 + 40 * 1_800_000 };
    const limited = model.build({ ...opts, venues: ['okx'] });
    expect(limited).toEqual(alone.build(opts));
    expect(limited.venues).toEqual(['okx']);
    expect(limited.openInterestUsd).toBeLessThan(model.build(opts).openInterestUsd);
  });

  it('when no listed venue has been ingested, then the map is empty and lists no venue', () => {
    const { model } = buildTwoVenueModel();
    const h = model.build({ markPrice: 100, now: T0, venues: ['bybit'] });
    expect(h.venues).toEqual([]);
    expect(h.openInterestUsd).toBe(0);
    expect(h.clusters).toEqual([]);
  });
});
