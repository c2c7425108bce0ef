import { describe, expect, it, vi } from 'vitest';
import { buildCcxtHarness } from './ccxt-fake.js';
import { closeAfterEach, startWsReplay } from './ws-replay.js';

// Realized liquidations over the venues' websockets: ccxt pro's real client and parsing,
// against a local server replaying frames in each venue's own wire format.

/** Bounds for a loaded machine, not timings: the first events need a connection and a subscription. */
const WAIT = { timeout: 20_000, interval: 100 };

const closeAfterTest = closeAfterEach();

async function buildStreaming(venue: string) {
  const ws = await startWsReplay(venue);
  const h = await buildCcxtHarness(venue, { options: { books: 'rest', streamUrls: { [venue]: ws.url } } });
  closeAfterTest({ h, ws });
  return { h, ws };
}

describe('realized liquidations over the venue websocket', { timeout: 30_000 }, () => {
  it('when Binance pushes two forceOrder events together, then both arrive, the order side turned into the liquidated position, at the average fill and accumulated quantity', async () => {
    const { h, ws } = await buildStreaming('binanceusdm');
    expect(await h.source.fetchLiquidations('BTCUSDT', 'binanceusdm', undefined)).toEqual([]);
    await vi.waitFor(async () => {
      expect(await h.source.fetchLiquidations('BTCUSDT', 'binanceusdm', undefined)).toEqual([
        { ts: 1767226650090, side: 'long', price: 94610.5, usd: 94610.5 * 0.25, venue: 'binanceusdm' },
        { ts: 1767226651190, side: 'short', price: 95012.4, usd: 95012.4 * 1.5, venue: 'binanceusdm' },
      ]);
    }, WAIT);
    // One all-market subscription, whatever the number of symbols.
    expect(ws.subscribed).toEqual(['!forceOrder@arr']);
    expect((await h.source.fetchLiquidations('BTCUSDT', 'binanceusdm', 1767226650090)).map((e) => e.side)).toEqual(['short']);
  });

  it('when several Binance symbols are read, then they share the one all-market subscription and each gets only its own events', async () => {
    const ws = await startWsReplay('binanceusdm');
    const h = await buildCcxtHarness('binanceusdm', { symbols: ['BTCUSDT', 'ETHUSDT'], listed: ['BTCUSDT', 'ETHUSDT'], options: { books: 'rest', streamUrls: { binanceusdm: ws.url } } });
    closeAfterTest({ h, ws });
    await h.source.fetchLiquidations('ETHUSDT', 'binanceusdm', undefined);
    await vi.waitFor(async () => expect(await h.source.fetchLiquidations('BTCUSDT', 'binanceusdm', undefined)).toHaveLength(2), WAIT);
    expect(await h.source.fetchLiquidations('ETHUSDT', 'binanceusdm', undefined)).toEqual([]);
    expect(ws.subscribed).toEqual(['!forceOrder@arr']);
  });

  it('when Bybit pushes allLiquidation, then its side is already the position\'s: Buy is a liquidated long', async () => {
    const { h, ws } = await buildStreaming('bybit');
    await vi.waitFor(async () => {
      expect(await h.source.fetchLiquidations('BTCUSDT', 'bybit', undefined)).toEqual([
        { ts: 1767226650120, side: 'long', price: 94580.1, usd: 94580.1 * 0.3, venue: 'bybit' },
        { ts: 1767226650180, side: 'short', price: 94620, usd: 94620 * 0.05, venue: 'bybit' },
      ]);
    }, WAIT);
    expect(ws.subscribed).toEqual(['allLiquidation.BTCUSDT']);
  });

  it('when OKX pushes liquidation-orders for every swap, then every detail of this symbol arrives, contracts turned into base units, and other instruments are left out', async () => {
    const { h, ws } = await buildStreaming('okx');
    await vi.waitFor(async () => {
      const events = await h.source.fetchLiquidations('BTCUSDT', 'okx', undefined);
      expect(events).toHaveLength(2);
      expect(events[0]).toEqual({ ts: 1767226650400, side: 'long', price: 94490.1, usd: expect.closeTo(94490.1 * 0.25, 6), venue: 'okx' });
      // One-way mode (posSide net): the order side decides, a buy closes a short.
      expect(events[1]).toEqual({ ts: 1767226650420, side: 'short', price: 94480, usd: expect.closeTo(94480 * 0.04, 6), venue: 'okx' });
    }, WAIT);
    expect(ws.subscribed).toEqual(['liquidation-orders:SWAP']);
  });
});
