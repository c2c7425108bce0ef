import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { buildTestApp, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { buildModelSnapshot } from './factories.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Needs a Chromium binary (Debian: apt-get install chromium; .ci/run installs it). Skipped
// on a developer machine without one, but never in CI, where a missing browser must fail.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('heatmap page in a browser (skipped only outside CI when no chromium is installed)', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    t = await buildTestApp({ clock: () => Date.now() });
    await t.app.services.heatmaps.publish(buildModelSnapshot({ asOf: Date.now() }));
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('when a read key is entered, then the ladder is drawn with long and short bars, the mark line and major clusters, and the key stays out of the URL', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/heatmap/BTCUSDT/view`);
    await page.fill('#key', TEST_KEYS.read);
    await page.click('#save');
    await page.waitForSelector('#ladder .row');
    const drawn = await page.evaluate(() => {
      const rows = Array.from(document.querySelectorAll('#ladder .row')) as HTMLElement[];
      const width = (sel: string) => rows.filter((r) => parseFloat((r.querySelector(sel) as HTMLElement).style.width) > 0).length;
      return {
        rows: rows.length,
        withLongs: width('.bar-long'),
        withShorts: width('.bar-short'),
        markLines: rows.filter((r) => r.classList.contains('mark')).length,
        majorRows: rows.filter((r) => r.classList.contains('major')).length,
        summary: document.getElementById('summary')!.textContent ?? '',
      };
    });
    expect(drawn.rows).toBeGreaterThan(10);
    expect(drawn.withLongs).toBeGreaterThan(0);
    expect(drawn.withShorts).toBeGreaterThan(0);
    expect(drawn.markLines).toBe(1);
    expect(drawn.majorRows).toBeGreaterThan(0);
    expect(drawn.summary).toMatch(/mark .* v1 .* risk/);
    expect(page.url()).not.toContain(TEST_KEYS.read);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('when the key is wrong, then the page shows the API error instead of a map', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/heatmap/BTCUSDT/view`);
    await page.fill('#key', 'not-a-key');
    await page.click('#save');
    await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '').length > 0);
    expect(await page.textContent('#error')).toMatch(/401 UNAUTHORIZED/);
    expect(await page.$$('#ladder .row')).toHaveLength(0);
    await page.close();
  });
});
