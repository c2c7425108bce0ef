import { describe, expect, it } from 'vitest';
import type { Bar } from '../../src/domain/market-data.js';
import { UnknownSymbolError } from '../../src/market/market-source.js';
import { timeOfDayDepthFactor, type SimSourceOptions } from '../../src/market/sim-source.js';
import { buildClock, buildSimAt, INTERVAL, VENUES } from './sim-factories.js';

// A Wednesday, 11:00 UTC (peak depth).
const START = Date.UTC(2026, 0, 7, 11, 0, 0);

function buildSim(overrides: Partial<SimSourceOptions> = {}): ReturnType<typeof buildSimAt> {
  return buildSimAt(START, overrides);
}

function logReturns(bars: Bar[]): number[] {
  return bars.slice(1).map((b, i) => Math.log(b.close / (bars[i] as Bar).close));
}

function autocorr(xs: number[], lag: number): number {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    den += ((xs[i] as number) - m) ** 2;
    if (i >= lag) num += ((xs[i] as number) - m) * ((xs[i - lag] as number) - m);
  }
  return num / den;
}

describe('simulator source', () => {
  it('when first polled, then it returns a 2,000-bar pre-history of closed, aligned bars ending at the clock', async () => {
    const sim = buildSim();
    const bars = await sim.fetchBars('BTCUSDT', 'binanceusdm', undefined);
    expect(bars).toHaveLength(2000);
    for (const b of bars) expect(b.ts % INTERVAL).toBe(0);
    expect((bars[bars.length - 1] as Bar).ts + INTERVAL).toBeLessThanOrEqual(START);
    for (let i = 1; i < bars.length; i++) expect((bars[i] as Bar).ts - (bars[i - 1] as Bar).ts).toBe(INTERVAL);
  });

  it('when built twice with the same seed and clock, then the markets are identical; another seed differs', async () => {
    const a = await buildSim().fetchBars('ETHUSDT', 'okx', undefined);
    const b = await buildSim().fetchBars('ETHUSDT', 'okx', undefined);
    const c = await buildSim({ seed: 43 }).fetchBars('ETHUSDT', 'okx', undefined);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('when started at another time with the same seed, then it is another market, and the same start repeats it', async () => {
    const closes = async (start: number) =>
      (await buildSim({ clock: () => start }).fetchBars('BTCUSDT', 'okx', undefined)).map((b) => b.close / b.open);
    const a = await closes(START);
    expect(await closes(START)).toEqual(a);
    expect(await closes(START + 3_600_000)).not.toEqual(a);
  });

  it('when time advances, then new bars appear only once closed, and polling cadence does not change them', async () => {
    const clockA = buildClock(START);
    const clockB = buildClock(START);
    const a = buildSim({ clock: clockA.now });
    const b = buildSim({ clock: clockB.now });
    const last = (await a.fetchBars('BTCUSDT', 'bybit', undefined)).at(-1) as Bar;
    await b.fetchBars('BTCUSDT', 'bybit', undefined);

    clockA.advance(INTERVAL - 1);
    expect(await a.fetchBars('BTCUSDT', 'bybit', last.ts)).toEqual([]);
    const stepwise: Bar[] = [];
    for (let i = 0; i < 10; i++) {
      clockA.advance(INTERVAL);
      stepwise.push(...(await a.fetchBars('BTCUSDT', 'bybit', stepwise.at(-1)?.ts ?? last.ts)));
    }
    clockB.advance(11 * INTERVAL - 1);
    const atOnce = await b.fetchBars('BTCUSDT', 'bybit', last.ts);
    expect(stepwise).toHaveLength(10);
    expect(atOnce).toEqual(stepwise);
  });

  it('when bars are generated, then OHLC is consistent and OI, funding and volume are positive and plausible', async () => {
    const bars = await buildSim().fetchBars('BTCUSDT', 'binanceusdm', undefined);
    for (const b of bars) {
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
      expect(b.openInterestUsd).toBeGreaterThan(0);
      expect(b.volume).toBeGreaterThan(0);
      expect(Math.abs(b.fundingRate as number)).toBeLessThan(0.0075);
      expect((b.takerBuyVolume as number) + (b.takerSellVolume as number)).toBeCloseTo(b.volume as number, 6);
      expect(b.longShortRatio).toBeGreaterThan(0);
    }
  });

  it('when returns are measured over a long run, then volatility clusters (|r| is autocorrelated) and tails are fat', async () => {
    const sim = buildSim({ prehistoryBars: 20_000 });
    const r = logReturns(await sim.fetchBars('BTCUSDT', 'binanceusdm', undefined));
    const abs = r.map(Math.abs);
    expect(autocorr(abs, 1)).toBeGreaterThan(0.1);
    const m = r.reduce((s, x) => s + x, 0) / r.length;
    const v = r.reduce((s, x) => s + (x - m) ** 2, 0) / r.length;
    const kurtosis = r.reduce((s, x) => s + (x - m) ** 4, 0) / r.length / v ** 2;
    expect(kurtosis).toBeGreaterThan(4);
    // Scaled as five minutes of BTC a bar: per-bar volatility of order 0.1 %.
    expect(Math.sqrt(v)).toBeGreaterThan(0.0005);
    expect(Math.sqrt(v)).toBeLessThan(0.005);
  });

  it('when price moves sharply, then open interest falls on average (flushes)', async () => {
    const sim = buildSim({ prehistoryBars: 20_000 });
    const bars = await sim.fetchBars('BTCUSDT', 'binanceusdm', undefined);
    const r = logReturns(bars);
    const dOi = bars.slice(1).map((b, i) => Math.log(b.openInterestUsd / (bars[i] as Bar).openInterestUsd));
    const sd = Math.sqrt(r.reduce((s, x) => s + x * x, 0) / r.length);
    const sharp = dOi.filter((_, i) => Math.abs(r[i] as number) > 3 * sd);
    const calm = dOi.filter((_, i) => Math.abs(r[i] as number) < sd);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(sharp.length).toBeGreaterThan(10);
    expect(mean(sharp)).toBeLessThan(mean(calm) - 0.003);
  });

  it('when open interest rises, then taker buying leans the way the new positions do (the model can learn the split)', async () => {
    const sim = buildSim({ prehistoryBars: 20_000 });
    const bars = await sim.fetchBars('BTCUSDT', 'binanceusdm', undefined);
    const up: number[] = [];
    const down: number[] = [];
    bars.slice(1).forEach((b, i) => {
      const prev = bars[i] as Bar;
      if (b.openInterestUsd <= prev.openInterestUsd) return;
      const buy = (b.takerBuyVolume as number) / (b.volume as number);
      (b.close > b.open ? up : down).push(buy);
    });
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(up)).toBeGreaterThan(0.55);
    expect(mean(down)).toBeLessThan(0.45);
  });

  it('when the venues are compared, then they are correlated but not identical, and share open interest by venue', async () => {
    const sim = buildSim();
    const bin = await sim.fetchBars('BTCUSDT', 'binanceusdm', undefined);
    const okx = await sim.fetchBars('BTCUSDT', 'okx', undefined);
    expect(okx.map((b) => b.ts)).toEqual(bin.map((b) => b.ts));
    const gap = Math.max(...bin.map((b, i) => Math.abs(b.close / (okx[i] as Bar).close - 1)));
    expect(gap).toBeGreaterThan(0);
    expect(gap).toBeLessThan(0.005);
    expect((bin.at(-1) as Bar).openInterestUsd).toBeGreaterThan((okx.at(-1) as Bar).openInterestUsd);
    expect(sim.venues('BTCUSDT')).toEqual(VENUES);
  });

  it('when a tick is read, then the mark is inside the current bar and the book is ordered around it', async () => {
    const sim = buildSim();
    const tick = await sim.fetchTick('BTCUSDT', 'binanceusdm');
    const book = tick.orderBook;
    expect(tick.ts).toBe(START);
    expect(book?.bids).toHaveLength(50);
    expect(book?.asks).toHaveLength(50);
    expect(book?.bids[0]?.price).toBeLessThan(tick.markPrice);
    expect(book?.asks[0]?.price).toBeGreaterThan(tick.markPrice);
    const bids = book?.bids.map((l) => l.price) ?? [];
    expect(bids).toEqual([...bids].sort((x, y) => y - x));
    expect(await sim.fetchTick('BTCUSDT', 'binanceusdm')).toEqual(tick);
  });

  it('when a tick is read, then it carries the fixed documented trading rules of the symbol, the same on every venue', async () => {
    const sim = buildSim({ symbols: ['BTCUSDT', 'ETHUSDT', 'ABCUSDT'] });
    const btc = { tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 120, minNotionalUsd: 100, maxLeverage: 125 };
    for (const venue of VENUES) expect((await sim.fetchTick('BTCUSDT', venue)).spec).toEqual(btc);
    expect((await sim.fetchTick('ETHUSDT', 'okx')).spec?.tickSize).toBe(0.01);
    // Any other symbol: five significant digits of its start price, a power-of-ten step worth about 10 USD.
    const other = await sim.fetchTick('ABCUSDT', 'okx');
    const spec = other.spec!;
    expect(spec.maxQuantity).toBeNull();
    expect(Math.log10(spec.tickSize!) % 1).toBeCloseTo(0, 9);
    expect(other.markPrice / spec.tickSize!).toBeGreaterThanOrEqual(1e4);
    expect(other.markPrice / spec.tickSize!).toBeLessThan(2e5);
    // Rounding to a power of ten puts a step between ~3 and ~32 USD at the start price; the mark has moved a little since.
    expect(spec.quantityStep! * other.markPrice).toBeGreaterThan(2);
    expect(spec.quantityStep! * other.markPrice).toBeLessThan(50);
  });

  it('when it is evening UTC or a weekend, then the book is thinner than at 11:00 on a weekday', async () => {
    const depth = async (t: number) => {
      const tick = await buildSim({ clock: () => t }).fetchTick('BTCUSDT', 'bybit');
      return (tick.orderBook?.bids ?? []).reduce((s, l) => s + l.size * l.price, 0) / tick.markPrice;
    };
    expect(timeOfDayDepthFactor(Date.UTC(2026, 0, 7, 21))).toBeCloseTo(0.61, 2);
    expect(timeOfDayDepthFactor(Date.UTC(2026, 0, 7, 11))).toBeCloseTo(1, 6);
    expect(timeOfDayDepthFactor(Date.UTC(2026, 0, 10, 11))).toBeCloseTo(0.75, 6);
    // Same bar index pattern, different hours: compare relative depth per unit of price.
    const noon = await depth(START);
    const evening = await depth(START + 10 * 3_600_000);
    expect(evening).toBeLessThan(noon);
  });

  it('when the sim has liquidation levels near the price, then the book is thinner there than elsewhere', async () => {
    // Bid i and ask i sit at the same distance from the mark, so their sizes differ only by
    // noise and by thinning: the side with more liquidation notional nearby should be thinner.
    // Pooled over several starts (each a different market) so no single path decides it.
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = START + i * 5_555_555;
      const sim = buildSim({ clock: () => t });
      const tick = await sim.fetchTick('BTCUSDT', 'binanceusdm');
      const levels = sim.liquidationLevels('BTCUSDT');
      expect(levels.length).toBeGreaterThan(0);
      const total = levels.reduce((s, l) => s + l.notionalUsd, 0);
      const near = (p: number) =>
        levels.reduce((s, l) => s + l.notionalUsd * Math.exp(-0.5 * ((p - l.liqPrice) / (0.0015 * tick.markPrice)) ** 2), 0) / total;
      const bids = tick.orderBook?.bids ?? [];
      const asks = tick.orderBook?.asks ?? [];
      bids.forEach((b, j) => {
        const a = asks[j] as typeof b;
        x.push(near(b.price) - near(a.price));
        y.push(Math.log((b.size * b.price) / (a.size * a.price)));
      });
    }
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    const mx = mean(x);
    const my = mean(y);
    const cov = mean(x.map((v, i) => (v - mx) * ((y[i] as number) - my)));
    const corr = cov / Math.sqrt(mean(x.map((v) => (v - mx) ** 2)) * mean(y.map((v) => (v - my) ** 2)));
    expect(corr).toBeLessThan(-0.5);
  });

  it('when the symbol or venue is not simulated, then UnknownSymbolError is thrown', async () => {
    const sim = buildSim();
    await expect(sim.fetchBars('XRPUSDT', 'bybit', undefined)).rejects.toBeInstanceOf(UnknownSymbolError);
    await expect(sim.fetchTick('BTCUSDT', 'kraken')).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(sim.venues('XRPUSDT')).toEqual([]);
  });
});

describe('simulator source: realized liquidations', () => {
  it('when its price reaches its hidden cohorts, then each venue reports them inside the bar that reached them, at or beyond the wick', async () => {
    const sim = buildSim();
    for (const venue of VENUES) {
      const bars = await sim.fetchBars('BTCUSDT', venue, undefined);
      const events = await sim.fetchLiquidations('BTCUSDT', venue, undefined);
      expect(events.length).toBeGreaterThan(10);
      const byTs = new Map(bars.map((b) => [b.ts, b]));
      for (const e of events) {
        expect(e.venue).toBe(venue);
        expect(e.ts).toBeLessThanOrEqual(START);
        expect(e.usd).toBeGreaterThanOrEqual(1);
        const bar = byTs.get(Math.floor(e.ts / INTERVAL) * INTERVAL);
        if (!bar) continue; // the bar in progress
        if (e.side === 'long') expect(bar.low).toBeLessThanOrEqual(e.price * (1 + 1e-12));
        else expect(bar.high).toBeGreaterThanOrEqual(e.price * (1 - 1e-12));
      }
      for (let i = 1; i < events.length; i++) expect(events[i]!.ts).toBeGreaterThanOrEqual(events[i - 1]!.ts);
    }
  });

  it('when the venues report the same liquidations, then each holds its share of the notional (Binance 45 %, OKX 25 %)', async () => {
    const sim = buildSim();
    const total = async (venue: string) => (await sim.fetchLiquidations('BTCUSDT', venue, undefined)).reduce((s, e) => s + e.usd, 0);
    expect((await total('binanceusdm')) / (await total('okx'))).toBeCloseTo(0.45 / 0.25, 3);
  });

  it('when polled with the last event seen as time passes, then only later events come, none past the clock, and the same seed and clock give the same events', async () => {
    const clock = buildClock(START);
    const sim = buildSim({ clock: clock.now });
    const first = await sim.fetchLiquidations('BTCUSDT', 'bybit', undefined);
    const last = first.at(-1)!.ts;
    clock.advance(500 * INTERVAL);
    const later = await sim.fetchLiquidations('BTCUSDT', 'bybit', last);
    expect(later.every((e) => e.ts > last && e.ts <= clock.now())).toBe(true);
    const again = buildSim({ clock: () => START + 500 * INTERVAL });
    const replayed = await again.fetchLiquidations('BTCUSDT', 'bybit', undefined);
    expect(replayed.length).toBeGreaterThan(0);
    expect(await buildSim({ clock: () => START + 500 * INTERVAL }).fetchLiquidations('BTCUSDT', 'bybit', undefined)).toEqual(replayed);
  });

  it('when liquidations are read, then the price path is the same as a sim nobody asked for them', async () => {
    const clockA = buildClock(START);
    const clockB = buildClock(START);
    const a = buildSim({ clock: clockA.now });
    const b = buildSim({ clock: clockB.now });
    await a.fetchLiquidations('BTCUSDT', 'okx', undefined);
    clockA.advance(200 * INTERVAL);
    clockB.advance(200 * INTERVAL);
    await a.fetchLiquidations('BTCUSDT', 'okx', undefined);
    expect(await a.fetchBars('BTCUSDT', 'okx', undefined)).toEqual(await b.fetchBars('BTCUSDT', 'okx', undefined));
  });
});

