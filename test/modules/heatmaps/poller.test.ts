import { describe, expect, it } from 'vitest';
import { HeatmapParamsSchema } from '../../../src/domain/heatmap/index.js';
import { DEFAULT_MAINTENANCE_MARGIN } from '../../../src/domain/margin.js';
import { createLogger } from '../../../src/logger.js';
import { TransientMarketError, UnknownSymbolError } from '../../../src/market/market-source.js';
import { SymbolPoller, type LiquidationBatch } from '../../../src/modules/heatmaps/poller.js';
import type { HeatmapSnapshot } from '../../../src/stores/heatmap-store.js';
import { createMemoryHeatmapStore } from '../../../src/stores/heatmap-store.memory.js';
import type { PollLeases } from '../../../src/stores/lease.js';
import { createMemoryLeases } from '../../../src/stores/lease.memory.js';
import { createRedisLeases } from '../../../src/stores/lease.redis.js';
import { redisKeys } from '../../../src/stores/redis-keys.js';
import { deletePrefix, randomPrefix, rawRedis } from '../../helpers/redis.js';
import { manualClock } from '../../helpers/app.js';
import { BAR_MS, FakeMarketSource } from './fake-source.js';

const PARAMS = HeatmapParamsSchema.parse({});

function buildPoller(overrides: { leases?: PollLeases; venues?: string[]; barMs?: number | undefined; barMaxAgeMs?: number } = {}) {
  const clock = manualClock();
  const source = new FakeMarketSource(clock, { venues: overrides.venues ?? ['binanceusdm', 'bybit'] });
  const store = createMemoryHeatmapStore({ retentionMs: 86_400_000, intervalMs: 60_000, maxEntries: 1_441 });
  const leases = overrides.leases ?? createMemoryLeases({ instanceId: 'me', ttlMs: 15_000 });
  const written: HeatmapSnapshot[] = [];
  const batches: LiquidationBatch[] = [];
  const poller = new SymbolPoller({
    symbol: 'BTCUSDT',
    source,
    store,
    leases,
    params: PARAMS,
    maintenanceMargin: DEFAULT_MAINTENANCE_MARGIN,
    clock,
    logger: createLogger('silent'),
    pollIntervalMs: 5_000,
    venueHealth: { baseBackoffMs: 5_000, maxBackoffMs: 60_000, failureThreshold: 3, cooldownMs: 30_000 },
    venueTimeoutMs: 50,
    barMs: 'barMs' in overrides ? overrides.barMs : BAR_MS,
    barMaxAgeMs: overrides.barMaxAgeMs ?? 3 * BAR_MS + 5_000,
    onSnapshot: (s) => written.push(s),
    onLiquidations: (b) => batches.push(b),
    random: () => 0.5,
  });
  return { poller, clock, source, store, leases, written, batches };
}

/** Leases held by someone else (another replica). */
function leasesHeldElsewhere(holder = 'other-replica'): PollLeases {
  return {
    instanceId: 'me',
    ttlMs: 15_000,
    acquire: async () => null,
    renew: async () => false,
    release: async () => {},
    holder: async () => holder,
  };
}

describe('symbol poller: realized liquidations', () => {
  it('when venues report realized liquidations, then each poll hands only the new ones to the consumer once, and the map lists them newest first', async () => {
    const { poller, clock, source, store, batches } = buildPoller();
    const t = clock();
    source.liquidations.set('binanceusdm', [
      { ts: t - 20_000, side: 'long', price: 99_000, usd: 50_000 },
      { ts: t + 30_000, side: 'short', price: 101_000, usd: 70_000 },
    ]);
    await poller.step();
    clock.advance(60_000);
    await poller.step();
    expect(batches.map((b) => ({ at: b.at, venues: b.venues.map((v) => [v.venue, v.events.map((e) => e.ts)]) }))).toEqual([
      { at: t, venues: [['binanceusdm', [t - 20_000]], ['bybit', []]] },
      { at: t + 60_000, venues: [['binanceusdm', [t + 30_000]], ['bybit', []]] },
    ]);
    expect(batches[0]!.venues[0]!.events[0]).toEqual({ ts: t - 20_000, side: 'long', price: 99_000, usd: 50_000, venue: 'binanceusdm' });
    // The second poll asked only for what followed the first event.
    expect(source.liquidationsSinceSeen.get('BTCUSDT/binanceusdm')).toEqual([undefined, t - 20_000]);
    expect((await store.getLatest('BTCUSDT'))!.recentLiquidations?.map((e) => e.ts)).toEqual([t + 30_000, t - 20_000]);
  });

  it('when a venue sends an event dated an hour ahead or with no valid time, then it is dropped and the next real event still reaches the map', async () => {
    const { poller, clock, source, store } = buildPoller();
    const t = clock();
    const serve = source.fetchLiquidations.bind(source);
    let first = true;
    // A venue with a broken clock or a garbled frame: served once, whatever the cursor.
    source.fetchLiquidations = async (symbol, venue, since) => {
      const bad = first && venue === 'binanceusdm' ? [{ ts: t + 3_600_000, side: 'long' as const, price: 99_000, usd: 9_000 }, { ts: Number.NaN, side: 'long' as const, price: 99_000, usd: 9_000 }] : [];
      if (venue === 'binanceusdm') first = false;
      return [...bad, ...(await serve(symbol, venue, since))];
    };
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))!.recentLiquidations).toBeUndefined();
    source.liquidations.set('binanceusdm', [{ ts: t + 2_000, side: 'short', price: 101_000, usd: 7_000 }]);
    clock.advance(5_000);
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))!.recentLiquidations?.map((e) => e.ts)).toEqual([t + 2_000]);
    expect(source.liquidationsSinceSeen.get('BTCUSDT/binanceusdm')).toEqual([undefined, undefined]);
  });

  it('when a venue\'s liquidations call fails, then the map is still written from its bars and the next poll asks again from the same point', async () => {
    const { poller, clock, source, store } = buildPoller();
    source.liquidations.set('binanceusdm', [{ ts: clock() - 1_000, side: 'long', price: 99_000, usd: 5_000 }]);
    source.liquidationsFailing.set('binanceusdm', new Error('stream down'));
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))!.venues).toEqual(['binanceusdm', 'bybit']);
    expect((await store.getLatest('BTCUSDT'))!.recentLiquidations).toBeUndefined();
    source.liquidationsFailing.delete('binanceusdm');
    clock.advance(5_000);
    await poller.step();
    expect(source.liquidationsSinceSeen.get('BTCUSDT/binanceusdm')).toEqual([undefined, undefined]);
    expect((await store.getLatest('BTCUSDT'))!.recentLiquidations).toHaveLength(1);
  });
});

describe('symbol poller', () => {
  it('when it takes the lease, then the first poll loads full history and writes a heatmap as of the poll time', async () => {
    const { poller, clock, source, store, written } = buildPoller();
    await poller.step();
    const latest = await store.getLatest('BTCUSDT');
    expect(latest).not.toBeNull();
    expect(latest!.asOf).toBe(clock());
    expect(latest!.version).toBe(1);
    expect(latest!.venues).toEqual(['binanceusdm', 'bybit']);
    expect(latest!.heatmap.bins.length).toBeGreaterThan(0);
    expect(source.sinceSeen.get('BTCUSDT/binanceusdm')).toEqual([undefined]);
    expect(written.map((s) => s.version)).toEqual([1]);
    expect(poller.status()).toMatchObject({ role: 'leader', leader: 'me', consecutiveFailures: 0, lastError: null, lastSuccessAt: clock() });
  });

  it('when polling again, then only bars newer than the last one ingested are asked for', async () => {
    const { poller, clock, source } = buildPoller();
    await poller.step();
    const seen = source.sinceSeen.get('BTCUSDT/binanceusdm')!;
    clock.advance(5 * 60_000);
    await poller.step();
    const since = source.sinceSeen.get('BTCUSDT/binanceusdm')![1];
    expect(seen[0]).toBeUndefined();
    expect(since).toBeTypeOf('number');
    expect(since).toBeGreaterThan(clock() - 7 * 60_000);
  });

  it('uses the median of the venues marks and the deepest venue book', async () => {
    const { poller, store, clock, source } = buildPoller({ venues: ['binanceusdm', 'bybit', 'okx'] });
    await poller.step();
    const latest = (await store.getLatest('BTCUSDT'))!;
    const binance = await source.fetchTick('BTCUSDT', 'binanceusdm');
    const bybit = await source.fetchTick('BTCUSDT', 'bybit');
    // binanceusdm and okx quote the same mark, bybit 2 bp above: the median is binance's.
    expect(latest.heatmap.markPrice).toBeCloseTo(binance.markPrice, 6);
    expect(bybit.markPrice).not.toBeCloseTo(binance.markPrice, 6);
    expect(latest.orderBook?.bids[0]?.size).toBe(5);
    expect(latest.asOf).toBe(clock());
  });

  it('when the venues publish different trading rules, then the snapshot carries the strictest of those in the map', async () => {
    const { poller, clock, source, store } = buildPoller();
    source.specs.set('binanceusdm', { tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 120, minNotionalUsd: 100, maxLeverage: null });
    source.specs.set('bybit', { tickSize: 0.1, quantityStep: 0.01, minQuantity: 0.01, maxQuantity: 500, minNotionalUsd: 5, maxLeverage: 100 });
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))!.spec).toEqual({
      tickSize: 0.1,
      quantityStep: 0.01,
      minQuantity: 0.01,
      maxQuantity: 120,
      minNotionalUsd: 100,
      maxLeverage: 100,
    });
    // Out of the map, out of the rules: bybit's coarser step no longer counts.
    source.failing.set('bybit', new TransientMarketError('down', 'bybit'));
    clock.advance(60_000);
    await poller.step();
    const alone = (await store.getLatest('BTCUSDT'))!;
    expect(alone.venues).toEqual(['binanceusdm']);
    expect(alone.spec).toEqual(source.specs.get('binanceusdm'));
  });

  it('when no venue publishes trading rules, then the snapshot says so with spec null', async () => {
    const { poller, store } = buildPoller();
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))!.spec).toBeNull();
  });

  it('when a map is written, then it carries the realized volatility and funding regime of the bars ingested', async () => {
    const { poller, store } = buildPoller();
    await poller.step();
    const h = (await store.getLatest('BTCUSDT'))!.heatmap;
    expect(h.volatility?.bars).toBe(12);
    expect(h.volatility?.realizedBpsPerHour).toBeGreaterThan(0);
    // 600 one-minute bars of 0.0001 funding on each venue: the latest equals every sample, so it sits mid-range.
    expect(h.funding).toEqual({ rate: 0.0001, percentile: 0.5, samples: 600 });
  });

  it('when one venue fails, then the heatmap is still written from the others and the venue backs off', async () => {
    const { poller, source, store } = buildPoller();
    source.failing.set('bybit', new TransientMarketError('timeout', 'bybit'));
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))?.venues).toEqual(['binanceusdm']);
    const bybit = poller.status().venues.find((v) => v.venue === 'bybit')!;
    expect(bybit).toMatchObject({ state: 'closed', consecutiveFailures: 1, lastError: 'timeout' });
    expect(bybit.retryAt).not.toBeNull();
    expect(poller.status().consecutiveFailures).toBe(0);
  });

  it('when a venue never answers, then the poll gives up on it after the timeout and writes from the others', async () => {
    const { poller, source, store } = buildPoller();
    const hang = source.fetchBars.bind(source);
    source.fetchBars = (symbol, venue, since) => (venue === 'bybit' ? new Promise(() => {}) : hang(symbol, venue, since));
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))?.venues).toEqual(['binanceusdm']);
    expect(poller.status().venues.find((v) => v.venue === 'bybit')).toMatchObject({ consecutiveFailures: 1, lastError: expect.stringMatching(/bybit bars did not answer/) });
  });

  it('when every venue fails, then nothing is written, the last heatmap is kept and ages, and the failure is reported', async () => {
    const { poller, clock, source, store } = buildPoller();
    await poller.step();
    const before = (await store.getLatest('BTCUSDT'))!;
    for (const v of ['binanceusdm', 'bybit']) source.failing.set(v, new TransientMarketError('exchange down', v));
    clock.advance(5_000);
    await poller.step();
    clock.advance(60_000);
    await poller.step();
    const after = (await store.getLatest('BTCUSDT'))!;
    expect(after.version).toBe(before.version);
    expect(after.asOf).toBe(before.asOf);
    const st = poller.status();
    expect(st.consecutiveFailures).toBe(2);
    expect(st.lastError).toMatch(/no venue answered.*binanceusdm.*exchange down/);
  });

  it('when a venue keeps failing, then its breaker opens and it is not called during the cool-down, then tried once again', async () => {
    const { poller, clock, source } = buildPoller({ venues: ['binanceusdm'] });
    source.failing.set('binanceusdm', new TransientMarketError('down', 'binanceusdm'));
    for (let i = 0; i < 3; i++) {
      if (i > 0) clock.advance(120_000); // past any backoff
      await poller.step();
    }
    expect(poller.status().venues[0]?.state).toBe('open');
    const calls = source.calls.bars.get('BTCUSDT');
    clock.set(poller.status().venues[0]!.retryAt! - 1);
    await poller.step();
    expect(source.calls.bars.get('BTCUSDT')).toBe(calls);
    source.failing.delete('binanceusdm');
    clock.advance(1);
    await poller.step();
    expect(source.calls.bars.get('BTCUSDT')).toBe(calls! + 1);
    expect(poller.status().venues[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(poller.status().consecutiveFailures).toBe(0);
  });

  it('when a venue does not list the symbol, then it is marked misconfigured and never called again', async () => {
    const { poller, clock, source } = buildPoller();
    source.failing.set('bybit', new UnknownSymbolError('BTCUSDT', 'bybit'));
    await poller.step();
    const calls = source.calls.ticks.get('BTCUSDT');
    for (let i = 0; i < 5; i++) {
      clock.advance(3_600_000);
      await poller.step();
    }
    const bybit = poller.status().venues.find((v) => v.venue === 'bybit')!;
    expect(bybit.state).toBe('misconfigured');
    expect(bybit.lastError).toMatch(/not listed on bybit/);
    // Ticks: only binanceusdm was asked after the first poll.
    expect(source.calls.ticks.get('BTCUSDT')).toBe(calls! + 5);
  });

  it('when another replica holds the lease, then it does not poll and reports that leader', async () => {
    const { poller, source } = buildPoller({ leases: leasesHeldElsewhere('replica-b') });
    await poller.step();
    expect(source.calls.bars.get('BTCUSDT')).toBeUndefined();
    expect(poller.status()).toMatchObject({ role: 'follower', leader: 'replica-b' });
  });

  it('when the lease cannot be renewed, then it stops polling', async () => {
    const inner = createMemoryLeases({ instanceId: 'me', ttlMs: 15_000 });
    const leases: PollLeases = { ...inner, renew: async () => false, acquire: async (s) => (calls++ === 0 ? inner.acquire(s) : null), holder: async () => 'replica-b' };
    let calls = 0;
    const { poller, source } = buildPoller({ leases });
    await poller.step();
    expect(poller.isLeader).toBe(true);
    expect(await poller.renew()).toBe(false);
    expect(poller.isLeader).toBe(false);
    const before = source.calls.bars.get('BTCUSDT');
    await poller.step();
    expect(source.calls.bars.get('BTCUSDT')).toBe(before);
    expect(poller.status().leader).toBe('replica-b');
  });

  it('when a newer leader has written, then this one\u2019s write is fenced off and it steps down', async () => {
    const { poller, clock, store } = buildPoller();
    await poller.step();
    const token = poller.status().fencingToken!;
    const newer = (await store.getLatest('BTCUSDT'))!;
    await store.put({ ...newer, asOf: clock() + 1 }, { fencingToken: token + 1 });
    clock.advance(5_000);
    await poller.step();
    expect(poller.isLeader).toBe(false);
    expect(poller.status().lastError).toMatch(/fenced/);
    expect((await store.getLatest('BTCUSDT'))!.asOf).toBe(clock() - 5_000 + 1);
  });

  it('when no venue has had a new bar for 6 hours, then nothing is written and the last map ages until the gate calls it stale', async () => {
    const { poller, clock, source, store } = buildPoller();
    await poller.step();
    const first = (await store.getLatest('BTCUSDT'))!;
    // The venues still answer (empty bars, live ticks) but publish no new bar.
    source.fetchBars = async () => [];
    for (let i = 0; i < 6; i++) {
      clock.advance(3_600_000);
      await poller.step();
    }
    const latest = (await store.getLatest('BTCUSDT'))!;
    expect(latest.version).toBe(first.version);
    expect(clock() - latest.asOf).toBe(6 * 3_600_000);
    const st = poller.status();
    expect(st.lastError).toMatch(/no venue has bars newer than 185000 ms: binanceusdm: last bar closed .*; bybit: last bar closed/);
    expect(st.consecutiveFailures).toBe(6);
    expect(st.venues.map((v) => [v.venue, v.state, v.contributing])).toEqual([
      ['binanceusdm', 'closed', false],
      ['bybit', 'closed', false],
    ]);
  });

  it('when the venues first answer with bars older than the limit, then no map is ever written', async () => {
    const { poller, source, store } = buildPoller({ barMaxAgeMs: 60_000 });
    const real = source.fetchBars.bind(source);
    source.fetchBars = async (s, v, since) => (await real(s, v, since)).slice(0, -5);
    await poller.step();
    expect(await store.getLatest('BTCUSDT')).toBeNull();
    expect(poller.status().lastError).toMatch(/no venue has bars newer than 60000 ms/);
  });

  it('when a venue has been down for 10 hours, then it is out of the map and out of venues, and its positions no longer count', async () => {
    const { poller, clock, source, store } = buildPoller();
    await poller.step();
    const both = (await store.getLatest('BTCUSDT'))!;
    source.failing.set('bybit', new TransientMarketError('down', 'bybit'));
    for (let i = 0; i < 10; i++) {
      clock.advance(3_600_000);
      await poller.step();
    }
    const latest = (await store.getLatest('BTCUSDT'))!;
    expect(latest.asOf).toBe(clock());
    expect(latest.venues).toEqual(['binanceusdm']);
    expect(latest.heatmap.venues).toEqual(['binanceusdm']);
    // Both fake venues carry the same open interest: alone, binanceusdm accounts for half of what both did.
    const k = Math.floor((clock() - (both.asOf - 600 * BAR_MS)) / BAR_MS) - 1;
    expect(latest.heatmap.openInterestUsd).toBeCloseTo(source.bar(k).openInterestUsd, 0);
    expect(both.heatmap.openInterestUsd).toBeCloseTo(2 * source.bar(599).openInterestUsd, 0);
    expect(poller.status().venues.find((v) => v.venue === 'bybit')).toMatchObject({ contributing: false });
  });

  it('when a venue comes back with fresh bars, then it feeds the map again', async () => {
    const { poller, clock, source, store } = buildPoller();
    await poller.step();
    source.failing.set('bybit', new TransientMarketError('down', 'bybit'));
    clock.advance(60_000);
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))!.venues).toEqual(['binanceusdm']);
    source.failing.delete('bybit');
    clock.advance(120_000); // past its backoff
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))!.venues).toEqual(['binanceusdm', 'bybit']);
  });

  it('when a map is written, then asOf is the poll time and dataAsOf the close of the oldest newest bar among its venues', async () => {
    const { poller, clock, source, store } = buildPoller();
    const start = clock();
    const real = source.fetchBars.bind(source);
    // bybit lags one bar behind binanceusdm.
    source.fetchBars = async (s, v, since) => {
      const bars = await real(s, v, since);
      return v === 'bybit' ? bars.filter((b) => b.ts + BAR_MS <= clock() - BAR_MS) : bars;
    };
    clock.advance(90_000);
    await poller.step();
    const latest = (await store.getLatest('BTCUSDT')) as (HeatmapSnapshot & { dataAsOf?: number }) | null;
    expect(latest!.asOf).toBe(start + 90_000);
    expect(latest!.dataAsOf).toBe(start);
    expect(latest!.venues).toEqual(['binanceusdm', 'bybit']);
    expect(poller.status().venues.map((v) => v.lastBarCloseAt)).toEqual([start + 60_000, start]);
  });

  it('when the bar duration is not given (replay), then it is inferred from the bars and replay data never goes stale', async () => {
    const { poller, clock, source, store } = buildPoller({ barMs: undefined, barMaxAgeMs: Number.POSITIVE_INFINITY });
    await poller.step();
    source.fetchBars = async () => [];
    clock.advance(86_400_000);
    await poller.step();
    const latest = (await store.getLatest('BTCUSDT')) as (HeatmapSnapshot & { dataAsOf?: number }) | null;
    expect(latest!.version).toBe(2);
    expect(latest!.asOf).toBe(clock());
    expect(latest!.dataAsOf).toBe(clock() - 86_400_000);
  });

  it('when the built map has a non-finite number, then it is logged and not written', async () => {
    const { poller, source, store } = buildPoller();
    const real = source.fetchTick.bind(source);
    source.fetchTick = async (s, v) => {
      const t = await real(s, v);
      return { ...t, orderBook: { ts: t.ts, bids: [{ price: t.markPrice - 1, size: Number.NaN }], asks: [] } };
    };
    await poller.step();
    expect(await store.getLatest('BTCUSDT')).toBeNull();
    expect(poller.status().lastError).toMatch(/non-finite numbers \(orderBook\.bids\[0\]\.size\); not written/);
    expect(poller.status().consecutiveFailures).toBe(1);
  });

  it('when a renewal errors (Redis blip) within the lease TTL, then it keeps leading and polling', async () => {
    const inner = createMemoryLeases({ instanceId: 'me', ttlMs: 15_000 });
    let renewError: Error | null = null;
    const leases: PollLeases = { ...inner, renew: async (s) => (renewError ? Promise.reject(renewError) : inner.renew(s)) };
    const { poller, clock, store } = buildPoller({ leases });
    await poller.step();
    renewError = new Error('lease renew did not answer within 5000 ms');
    clock.advance(5_000);
    expect(await poller.renew()).toBe(false);
    clock.advance(5_000);
    expect(await poller.renew()).toBe(false);
    expect(poller.isLeader).toBe(true);
    await poller.step();
    expect((await store.getLatest('BTCUSDT'))?.version).toBe(2);
    renewError = null;
    clock.advance(4_000);
    expect(await poller.renew()).toBe(true);
    // A successful renewal restarts the TTL: another 14 s of errors do not make it step down.
    renewError = new Error('blip');
    clock.advance(14_000);
    expect(await poller.renew()).toBe(false);
    expect(poller.isLeader).toBe(true);
  });

  it('when renewals have errored for a whole lease TTL, then it steps down (the lease may have been taken)', async () => {
    const inner = createMemoryLeases({ instanceId: 'me', ttlMs: 15_000 });
    const leases: PollLeases = { ...inner, renew: async () => Promise.reject(new Error('connection reset')), acquire: async () => null, holder: async () => null };
    const { poller, clock } = buildPoller({ leases: { ...leases, acquire: async (s) => inner.acquire(s) } });
    await poller.step();
    clock.advance(14_999);
    await poller.renew();
    expect(poller.isLeader).toBe(true);
    clock.advance(1);
    await poller.renew();
    expect(poller.isLeader).toBe(false);
  });

  it('when stopped, then it waits for the poll in flight and releases the lease', async () => {
    const { poller, leases, store } = buildPoller();
    poller.start();
    await poller.stop();
    // The first poll ran to completion before stop() returned.
    expect((await store.getLatest('BTCUSDT'))?.version).toBe(1);
    expect(await leases.holder('BTCUSDT')).toBeNull();
    expect(poller.status().role).toBe('stopped');
  });
});

describe('symbol poller with Redis leases', () => {
  it('when it stepped down after a renewal outage longer than the TTL but the lease is still its own, then it resumes with the same fencing token', async () => {
    const prefix = randomPrefix('poller');
    const client = rawRedis();
    const admin = rawRedis();
    try {
      const leases = createRedisLeases({ redis: client, keys: redisKeys(prefix), instanceId: 'me', ttlMs: 15_000 });
      const { poller, clock, store } = buildPoller({ leases });
      await poller.step();
      expect(poller.status()).toMatchObject({ role: 'leader', fencingToken: 1 });
      client.disconnect();
      clock.advance(5_000);
      expect(await poller.renew()).toBe(false);
      expect(poller.isLeader).toBe(true);
      clock.advance(10_000);
      await poller.renew();
      expect(poller.isLeader).toBe(false);
      await client.connect();
      await poller.step();
      expect(poller.status()).toMatchObject({ role: 'leader', fencingToken: 1, lastError: null });
      expect((await store.getLatest('BTCUSDT'))?.version).toBe(2);
    } finally {
      client.disconnect();
      await deletePrefix(admin, prefix);
      await admin.quit();
    }
  });
});
