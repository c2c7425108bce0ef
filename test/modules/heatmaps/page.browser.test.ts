import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildTestApp, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { buildSnapshot } from '../../helpers/snapshots.js';
import { buildHeatmap, clusterAt, FULL_CONFIDENCE, MARK } from '../../domain/pretrade/factories.js';
import type { ModelHealth } from '../../../src/domain/model-health/types.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots land here (git-ignored), for people to look at after a run. */
const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url).pathname;

/** The page's documented colour scale, written again here: linear in value / largest cell through these stops. */
const STOPS: [number, [number, number, number]][] = [
  [0, [15, 20, 25]],
  [0.25, [59, 82, 139]],
  [0.5, [33, 145, 140]],
  [0.75, [94, 201, 98]],
  [1, [253, 231, 37]],
];
function expectedColour(share: number): number[] {
  const i = STOPS.findIndex(([t]) => share <= t);
  if (i <= 0) return STOPS[Math.max(0, i)]![1];
  const [t0, c0] = STOPS[i - 1]!;
  const [t1, c1] = STOPS[i]!;
  return c0.map((v, k) => Math.round(v + (c1[k]! - v) * ((share - t0) / (t1 - t0))));
}

const bin = (price: number, longUsd: number, shortUsd = 0) => ({ price, longUsd, shortUsd, probability: 0 });

interface Probe {
  value: number;
  max: number;
  pixel: number[];
}

/** For one column: the cell holding the most notional, its value and the pixel drawn at its centre. */
async function probe(page: Page, which: 'firstWith' | 'last', asOf?: string): Promise<Probe> {
  return page.evaluate(
    ([which, asOf]) => {
      const h = (window as unknown as { liqgateHeatmap: { data: { columns: { asOf: string | null }[]; longUsd: number[][]; shortUsd: number[][]; maxCellUsd: number; rows: number }; cellCenter(c: number, r: number): { x: number; y: number } } }).liqgateHeatmap;
      const col = which === 'last' ? h.data.columns.length - 1 : h.data.columns.findIndex((c) => c.asOf === asOf);
      let row = 0;
      for (let r = 0; r < h.data.rows; r++) {
        if (h.data.longUsd[col]![r]! + h.data.shortUsd[col]![r]! > h.data.longUsd[col]![row]! + h.data.shortUsd[col]![row]!) row = r;
      }
      const { x, y } = h.cellCenter(col, row);
      const canvas = document.getElementById('chart') as HTMLCanvasElement;
      const px = canvas.getContext('2d')!.getImageData(x, y, 1, 1).data;
      return { value: h.data.longUsd[col]![row]! + h.data.shortUsd[col]![row]!, max: h.data.maxCellUsd, pixel: [px[0]!, px[1]!, px[2]!] };
    },
    [which, asOf ?? null] as const,
  );
}

// Needs a Chromium binary (Debian: apt-get install chromium; .ci/run installs it). Skipped
// on a developer machine without one, but never in CI, where a missing browser must fail.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('heatmap page in a browser (skipped only outside CI when no chromium is installed)', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  const now = Date.now();
  const pastAsOf = now - 2 * 3_600_000;
  const clusters = [clusterAt('long', 500), clusterAt('short', 500)];
  // Newest first, as a snapshot carries them: a short squeezed half an hour ago, a long flushed an hour ago.
  const liquidations = [
    { ts: now - 1_800_000, side: 'short' as const, price: MARK * 1.02, usd: 2e6, venue: 'bybit' },
    { ts: now - 3_600_000, side: 'long' as const, price: MARK * 0.98, usd: 5e6, venue: 'binanceusdm' },
  ];

  // The gate reads the current BTCUSDT map as little trusted (below the default confidenceFullAt 0.8, too few events to score the model).
  const lowConfidence = { value: 0.47, unlocatedShare: 0.53, venueCoverage: 1, accuracy: 0.5 };
  const unknownHealth: ModelHealth = { status: 'unknown', sweptMass: null, priceLevel: null, events: 4, periods: 3, windowMs: 86_400_000 };
  const goodHealth: ModelHealth = { status: 'healthy', sweptMass: 0.6, priceLevel: 0.5, events: 80, periods: 40, windowMs: 86_400_000 };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await buildTestApp({ clock: () => Date.now() });
    // Two hours ago: 8M of longs at -3%; now: 4M of shorts at +3% (and the gate's clusters at ±5%).
    await t.publish(buildSnapshot({ asOf: pastAsOf, heatmap: buildHeatmap({ asOf: pastAsOf, binBps: 10, clusters, bins: [bin(MARK * 0.97, 8e6)] }) }));
    await t.publish(
      buildSnapshot({
        asOf: now,
        heatmap: buildHeatmap({ asOf: now, binBps: 10, clusters, bins: [bin(MARK * 1.03, 0, 4e6)] }),
        recentLiquidations: liquidations,
        confidence: lowConfidence,
        health: unknownHealth,
      }),
    );
    // ETHUSDT: a map the gate trusts fully.
    await t.publish(
      buildSnapshot({
        symbol: 'ETHUSDT',
        asOf: now,
        heatmap: buildHeatmap({ symbol: 'ETHUSDT', asOf: now, binBps: 10, clusters, bins: [bin(MARK * 1.01, 1e6)] }),
        confidence: FULL_CONFIDENCE,
        health: goodHealth,
      }),
    );
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function open(width: number, height: number, symbol = 'BTCUSDT'): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width, height } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/heatmap/${symbol}/view`);
    await page.fill('#key', TEST_KEYS.read);
    await page.click('#save');
    await page.waitForFunction(() => 'liqgateHeatmap' in window);
    return { page, problems };
  }

  it('when a read key is entered, then the time x price picture is drawn: a past cell and a current cell in the colours their notional calls for', async () => {
    const { page, problems } = await open(1200, 800);
    const past = await probe(page, 'firstWith', new Date(pastAsOf).toISOString());
    const current = await probe(page, 'last');
    expect(past.value).toBeGreaterThan(0);
    expect(current.value).toBeGreaterThan(0);
    for (const cell of [past, current]) {
      const want = expectedColour(cell.value / cell.max);
      cell.pixel.forEach((v, k) => expect(Math.abs(v - want[k]!), `channel ${k} of ${cell.pixel.join(',')} vs ${want.join(',')}`).toBeLessThanOrEqual(2));
    }
    expect(past.pixel).not.toEqual(current.pixel);
    const summary = (await page.textContent('#summary')) ?? '';
    expect(summary).toMatch(/BTCUSDT mark 100000 .* risk \d+ · buffer buy \d+ \/ sell \d+ bps · 2 major zones/);
    expect(page.url()).not.toContain(TEST_KEYS.read);
    await page.screenshot({ path: `${ARTIFACTS}heatmap-desktop.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('when the map the gate uses has a low confidence and an unknown model health, then a degraded badge says so beside the buffers it widened', async () => {
    const { page, problems } = await open(1200, 800);
    const badge = page.locator('#summary #trust');
    expect(await badge.textContent()).toBe('confidence 0.47 · model health unknown');
    expect(await badge.getAttribute('class')).toBe('degraded');
    // Drawn in the warning colour, so it reads as a warning, not as a label.
    expect(await badge.evaluate((e) => getComputedStyle(e).color)).toBe('rgb(228, 87, 46)');
    await page.screenshot({ path: `${ARTIFACTS}heatmap-low-confidence.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('when the map has full confidence and a healthy model, then the badge is not marked degraded', async () => {
    const { page, problems } = await open(1200, 800, 'ETHUSDT');
    const badge = page.locator('#summary #trust');
    expect(await badge.textContent()).toBe('confidence 1.00 · model health healthy');
    expect(await badge.getAttribute('class')).toBe('ok');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('when the map carries realized liquidations, then each is marked where and when it happened, coloured by the liquidated side', async () => {
    const { page, problems } = await open(1200, 800);
    const marks = await page.evaluate(() => {
      const h = (window as unknown as { liqgateHeatmap: { data: { liquidations: { at: string; side: string; price: number }[] }; liquidationMark(i: number): { x: number; y: number; r: number } | null } }).liqgateHeatmap;
      const canvas = document.getElementById('chart') as HTMLCanvasElement;
      return h.data.liquidations.map((e, i) => {
        const m = h.liquidationMark(i);
        const px = m ? canvas.getContext('2d')!.getImageData(m.x, m.y, 1, 1).data : null;
        return { side: e.side, price: e.price, at: e.at, mark: m, pixel: px ? [px[0]!, px[1]!, px[2]!] : null };
      });
    });
    // Oldest first from the history route.
    expect(marks.map((m) => [m.side, m.price, m.at])).toEqual([
      ['long', MARK * 0.98, new Date(now - 3_600_000).toISOString()],
      ['short', MARK * 1.02, new Date(now - 1_800_000).toISOString()],
    ]);
    const [long, short] = marks;
    expect(long!.pixel).toEqual([47, 126, 216]);
    expect(short!.pixel).toEqual([228, 87, 46]);
    // Earlier and lower on the picture; the larger one drawn larger.
    expect(long!.mark!.x).toBeLessThan(short!.mark!.x);
    expect(long!.mark!.y).toBeGreaterThan(short!.mark!.y);
    expect(long!.mark!.r).toBeGreaterThan(short!.mark!.r);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('when shown at phone width, then it fits without sideways scrolling', async () => {
    const { page, problems } = await open(390, 800);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${ARTIFACTS}heatmap-phone.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('when the key is wrong, then the page shows the API error instead of a picture', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/heatmap/BTCUSDT/view`);
    await page.fill('#key', 'not-a-key');
    await page.click('#save');
    await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '').length > 0);
    expect(await page.textContent('#error')).toMatch(/401 UNAUTHORIZED/);
    expect(await page.evaluate(() => 'liqgateHeatmap' in window)).toBe(false);
    await page.close();
  });
});
