import { createHeatmapModel, HeatmapParamsSchema } from '../../../src/domain/heatmap/index.js';
import type { NewHeatmapSnapshot } from '../../../src/stores/heatmap-store.js';
import { buildSnapshot } from '../../helpers/snapshots.js';
import { FakeMarketSource } from './fake-source.js';

export const T0 = Date.UTC(2026, 0, 6, 11, 0, 0);

/** A snapshot built by the real model from the fake source's bars, as the poller would write it. */
export function buildModelSnapshot(overrides: Partial<NewHeatmapSnapshot> = {}): NewHeatmapSnapshot {
  const symbol = overrides.symbol ?? 'BTCUSDT';
  const asOf = overrides.asOf ?? T0;
  const source = new FakeMarketSource(() => T0, { start: T0 });
  const model = createHeatmapModel(symbol, HeatmapParamsSchema.parse({}));
  const bars = [];
  for (let k = 0; k < 600; k++) bars.push(source.bar(k));
  model.ingest('binanceusdm', bars);
  const markPrice = bars[bars.length - 1]!.close;
  const orderBook = { ts: asOf, bids: [{ price: markPrice - 1, size: 1 }], asks: [{ price: markPrice + 1, size: 1 }] };
  // Built with the book, as the poller builds it: the map carries its cascades.
  const heatmap = model.build({ markPrice, now: asOf, orderBook });
  return buildSnapshot({ symbol, asOf, heatmap, orderBook, ...overrides });
}
