import type { NewHeatmapSnapshot } from '../../src/stores/heatmap-store.js';
import { buildBook, buildHeatmap, FULL_CONFIDENCE } from '../domain/pretrade/factories.js';

/** A heatmap snapshot as the poller would publish it, with a book; override anything. */
export function buildSnapshot(overrides: Partial<NewHeatmapSnapshot> = {}): NewHeatmapSnapshot {
  const symbol = overrides.symbol ?? 'BTCUSDT';
  const asOf = overrides.asOf ?? Date.UTC(2026, 0, 6, 11, 0, 0);
  const heatmap = overrides.heatmap ?? buildHeatmap({ symbol, asOf });
  return {
    symbol,
    asOf,
    source: 'sim',
    venues: heatmap.venues,
    heatmap,
    orderBook: buildBook({}),
    confidence: FULL_CONFIDENCE,
    ...overrides,
  };
}
