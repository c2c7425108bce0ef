import { describe, expect, it } from 'vitest';
import { createHeatmapModel } from '../../../src/domain/heatmap/index.js';
import { buildBar, buildParams, T0 } from './factories.js';

const MIN_1 = 60_000;
const DAY = 86_400_000;

/** n bars `step` apart whose open interest rises by 1,000 USD a bar from 1e6, so every sample is distinguishable. */
function buildRisingOiBars(n: number, step: number) {
  return Array.from({ length: n }, (_, i) => buildBar({ ts: T0 + i * step, openInterestUsd: 1e6 + i * 1_000 }));
}

/** The OI change a 24 h window should report at `now`: from the last sample at or before now − 24 h. */
function expectedChange(bars: ReturnType<typeof buildRisingOiBars>, now: number): number {
  const start = now - DAY;
  const then = bars.filter((b) => b.ts <= start).at(-1) ?? bars[0];
  const last = bars.at(-1);
  if (!then || !last) throw new Error('no bars');
  return (last.openInterestUsd - then.openInterestUsd) / then.openInterestUsd;
}

describe('open-interest history over the crowding window', () => {
  it.each([
    // Old samples are dropped many times.
    ['5-minute bars for 10 days', 2_880, 5 * MIN_1],
    // The window then holds more samples than the initial buffer, and its start sample was moved when it grew.
    ['1-minute bars for 2,000 minutes', 2_000, MIN_1],
    ['1-minute bars for 3 days', 4_320, MIN_1],
  ])('when %s are ingested, then the OI change still spans exactly the 24 h window', (_label, n, step) => {
    const bars = buildRisingOiBars(n, step);
    const now = T0 + n * step;
    const batch = createHeatmapModel('BTC', buildParams());
    batch.ingest('binance', bars);
    const oneByOne = createHeatmapModel('BTC', buildParams());
    for (const b of bars) oneByOne.ingest('binance', [b]);

    const want = expectedChange(bars, now);
    expect(want).toBeGreaterThan(0);
    expect(batch.build({ markPrice: 100, now }).crowding.oiChangePct).toBe(want);
    expect(oneByOne.build({ markPrice: 100, now }).crowding.oiChangePct).toBe(want);
  });

  it('when the window reaches back before the first bar, then the change is measured from the first bar', () => {
    const bars = buildRisingOiBars(100, 5 * MIN_1);
    const model = createHeatmapModel('BTC', buildParams());
    model.ingest('binance', bars);
    const now = T0 + 100 * 5 * MIN_1;
    expect(model.build({ markPrice: 100, now }).crowding.oiChangePct).toBe((1e6 + 99 * 1_000 - 1e6) / 1e6);
  });
});
