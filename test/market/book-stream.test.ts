import { describe, expect, it, vi } from 'vitest';
import { buildCcxtHarness, NOW } from './ccxt-fake.js';
import { closeAfterEach, startWsReplay } from './ws-replay.js';

// Order books over the venues' websockets: ccxt pro's real client and parsing, against a
// local server replaying recorded frames.

/** Bounds for a loaded machine, not timings: the first book needs a connection, a subscription and (Binance) a REST snapshot. */
const WAIT = { timeout: 20_000, interval: 100 };

const closeAfterTest = closeAfterEach();

describe('order books over the venue websocket', { timeout: 30_000 }, () => {
  it('when Binance books stream, then the REST snapshot is taken once and the recorded diff is applied on top of it', async () => {
    const ws = await startWsReplay('binanceusdm');
    const h = await buildCcxtHarness('binanceusdm', { options: { books: 'stream', streamUrls: { binanceusdm: ws.url } } });
    closeAfterTest({ h, ws });
    await vi.waitFor(async () => {
      const tick = await h.source.fetchTick('BTCUSDT', 'binanceusdm');
      // depth.json has 3.512 at 94760.40 and 2.004 at 94760.50; the diff sets 4.000 and removes 94760.50.
      expect(tick.orderBook?.bids[0]).toEqual({ price: 94760.4, size: 4 });
      expect(tick.orderBook?.asks[0]).toEqual({ price: 94761, size: 0.5 });
    }, WAIT);
    expect(ws.subscribed).toEqual([expect.stringMatching(/^btcusdt@depth/)]);
    // One REST snapshot for the subscription, at the depth the source asked for.
    const snapshots = h.venue.requests.filter((u) => u.pathname.endsWith('/depth'));
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]!.searchParams.get('limit')).toBe('50');
  });

  it('when OKX books stream, then the recorded snapshot frame is the book, sizes turned from contracts into base units, with no REST book call', async () => {
    const ws = await startWsReplay('okx');
    const h = await buildCcxtHarness('okx', { options: { books: 'stream', streamUrls: { okx: ws.url } } });
    closeAfterTest({ h, ws });
    await vi.waitFor(async () => {
      const tick = await h.source.fetchTick('BTCUSDT', 'okx');
      expect(tick.orderBook?.bids[0]).toEqual({ price: 94758.8, size: 3.4 });
      expect(tick.orderBook?.asks[0]).toEqual({ price: 94759, size: 1.2 });
      expect(tick.orderBook?.ts).toBe(1767226651000);
    }, WAIT);
    expect(ws.subscribed).toEqual(['BTC-USDT-SWAP']);
    expect(h.venue.count('books')).toBe(0);
  });

  it('when the stream has sent nothing within a poll interval, then the tick goes out without a book rather than waiting', async () => {
    const ws = await startWsReplay('okx');
    await ws.close(); // nothing listens there any more
    const h = await buildCcxtHarness('okx', { pollIntervalMs: 300, options: { books: 'stream', streamUrls: { okx: ws.url } } });
    closeAfterTest({ h });
    const tick = await h.source.fetchTick('BTCUSDT', 'okx');
    expect(tick.orderBook).toBeNull();
    expect(tick.markPrice).toBeGreaterThan(0);
    expect(tick.ts).toBe(NOW);
  });
});
