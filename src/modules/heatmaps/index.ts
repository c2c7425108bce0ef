import type { Logger } from 'pino';
import { policyFor, type AppConfig } from '../../config.js';
import type { HeatmapSnapshot, HeatmapStore } from '../../stores/heatmap-store.js';
import { createMemoryHeatmapStore, historyMaxEntries, type HistoryOptions } from '../../stores/heatmap-store.memory.js';
import { createRedisHeatmapStore } from '../../stores/heatmap-store.redis.js';
import type { PollLeases } from '../../stores/lease.js';
import { createMemoryLeases } from '../../stores/lease.memory.js';
import { createRedisLeases } from '../../stores/lease.redis.js';
import type { HeatmapModule, ModuleInfra, ReadinessCheck } from '../module.js';
import { HeatmapCache } from './cache.js';
import { SymbolPoller } from './poller.js';
import { registerHeatmapRoutes } from './routes.js';
import { createVenueClockMonitor } from './venue-clock.js';
import { registerVenuesRoute, venuesStatus } from './venues-route.js';
import type { SymbolsResponse } from './schemas.js';
import type { BreakerState, VenueHealthOptions } from './venue-health.js';
import { dataAsOfOf } from '../../stores/heatmap-snapshot-schema.js';
import { localStatusBoard, redisStatusBoard, type StatusBoard } from './status-board.js';
import type { PollerStatus } from './poller.js';
import { instrumentStore } from '../../metrics.js';

export { SymbolPoller } from './poller.js';
export { HeatmapCache } from './cache.js';

/** Retry discipline per venue; fixed here, documented in the module's report (not worth an env var each). */
export function venueHealthOptions(pollIntervalMs: number): VenueHealthOptions {
  return {
    baseBackoffMs: pollIntervalMs,
    maxBackoffMs: Math.max(pollIntervalMs, 60_000),
    failureThreshold: 5,
    cooldownMs: Math.max(pollIntervalMs, 30_000),
  };
}

const TIMEFRAME_MS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000 } as const;

/**
 * Bar duration and the oldest a venue's newest bar may be before the venue stops feeding
 * the map (see poller.ts). BAR_MAX_AGE_MS when set, else 3 bars plus a poll interval,
 * where a bar is SIM_BAR_INTERVAL_MS (sim) or BAR_TIMEFRAME (ccxt). ccxt with 1m bars
 * counts 5m bars here: no venue serves 1m open interest, so the ccxt source releases a
 * bar only once the 5m OI observation at or after its close is published, and its newest
 * bar routinely lags by up to ~5 minutes. Replay is exempt: its recorded bars never grow
 * (and production refuses replay).
 */
export function barFreshness(market: AppConfig['market']): { barMs: number | undefined; barMaxAgeMs: number } {
  if (market.source === 'replay') return { barMs: undefined, barMaxAgeMs: Number.POSITIVE_INFINITY };
  const barMs = market.source === 'ccxt' ? TIMEFRAME_MS[market.barTimeframe] : market.simBarIntervalMs;
  const releaseMs = market.source === 'ccxt' ? Math.max(barMs, TIMEFRAME_MS['5m']) : barMs;
  return { barMs, barMaxAgeMs: market.barMaxAgeMs ?? 3 * releaseMs + market.pollIntervalMs };
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/**
 * Startup progress for operators: one info line when each symbol's first heatmap arrives
 * (with the time it took), and one when every symbol has one (the gate can approve).
 */
function reportFirstHeatmaps(startedAt: number, symbols: string[], cache: HeatmapCache, clock: () => number, logger: Logger): void {
  const waiting = new Set(symbols.filter((s) => !cache.get(s)));
  if (waiting.size === 0) return;
  const off = cache.onChange((snap) => {
    if (!waiting.delete(snap.symbol)) return;
    logger.info({ symbol: snap.symbol, afterMs: clock() - startedAt, version: snap.version, source: snap.source }, 'first heatmap for symbol');
    if (waiting.size > 0) return;
    logger.info({ symbols, afterMs: clock() - startedAt }, 'every symbol has a heatmap: ready to gate');
    off();
  });
}

const BREAKER_LEVEL: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2, misconfigured: 3 };

/**
 * Market data, poller, heatmap cache and the /heatmap, /symbols routes. Builds its store
 * and leases from the infrastructure (Redis when configured, else in-process); polls only
 * when a market source is given; serves every read from this replica's memory.
 */
export function createHeatmapModule(infra: ModuleInfra): HeatmapModule {
  const { config, clock } = infra;
  const logger = infra.logger.child({ module: 'heatmaps' });
  const symbols = config.market.symbols;
  const maxAgeMs = config.market.heatmapMaxAgeMs;
  const history: HistoryOptions = {
    retentionMs: config.cluster.historyRetentionMs,
    intervalMs: config.cluster.historyIntervalMs,
    maxEntries: historyMaxEntries(config.cluster.historyRetentionMs, config.cluster.historyIntervalMs),
  };

  let store: HeatmapStore;
  let leases: PollLeases;
  let board: StatusBoard;
  if (config.store.kind === 'redis') {
    if (!infra.redis) throw new Error('STORE=redis but no Redis client was given to the app');
    store = createRedisHeatmapStore({ redis: infra.redis, keys: infra.keys, history, logger });
    leases = createRedisLeases({ redis: infra.redis, keys: infra.keys, instanceId: config.instanceId, ttlMs: config.cluster.leaseTtlMs });
    board = redisStatusBoard(infra.redis, infra.keys, Math.max(3 * config.cluster.leaseTtlMs, maxAgeMs));
  } else {
    store = createMemoryHeatmapStore(history);
    leases = createMemoryLeases({ instanceId: config.instanceId, ttlMs: config.cluster.leaseTtlMs });
    board = localStatusBoard;
  }
  /** The leader's status of symbols this replica does not poll, as last read from the board. */
  let remoteStatus = new Map<string, PollerStatus>();

  store = instrumentStore(store, 'heatmap', infra.metrics);
  const cache = new HeatmapCache(store, logger);
  const source = infra.marketSource;
  const pollers = new Map<string, SymbolPoller>();
  const freshness = barFreshness(config.market);
  if (source) {
    for (const symbol of symbols) {
      pollers.set(
        symbol,
        new SymbolPoller({
          symbol,
          source,
          store,
          leases,
          params: policyFor(config.policy, symbol).model,
          clock,
          logger,
          pollIntervalMs: config.market.pollIntervalMs,
          venueHealth: venueHealthOptions(config.market.pollIntervalMs),
          venueTimeoutMs: Math.max(10_000, 2 * config.market.pollIntervalMs),
          barMs: freshness.barMs,
          barMaxAgeMs: freshness.barMaxAgeMs,
          onSnapshot: (s) => cache.apply(s),
          onStatus: (st) => board.post(symbol, st),
          metrics: infra.metrics,
        }),
      );
    }
  }

  const venueClock = source ? createVenueClockMonitor(source, { clock, logger, pollIntervalMs: config.market.pollIntervalMs, metrics: infra.metrics }) : null;

  let started = false;
  let unsubscribe: (() => Promise<void>) | null = null;
  let reconcileTimer: NodeJS.Timeout | null = null;
  // Repairs announcements missed while a subscriber was reconnecting; cheap (one GET per symbol).
  const reconcileEveryMs = Math.max(1_000, Math.min(config.market.pollIntervalMs * 2, maxAgeMs / 2));

  const reconcileLoop = () => {
    reconcileTimer = setTimeout(() => {
      const notLed = symbols.filter((s) => !pollers.get(s)?.isLeader);
      Promise.all([
        cache.reconcile(symbols),
        board.read(notLed).then((m) => {
          remoteStatus = m;
        }),
      ])
        .catch((err: Error) => logger.debug({ err: err.message }, 'heatmap reconcile failed'))
        .finally(() => {
          if (started) reconcileLoop();
        });
    }, reconcileEveryMs);
    reconcileTimer.unref();
  };

  const symbolsStatus = (): SymbolsResponse => {
    const now = clock();
    return {
      instanceId: config.instanceId,
      maxAgeMs,
      symbols: symbols.map((symbol) => {
        const snap = cache.get(symbol);
        const own = pollers.get(symbol)?.status();
        // Not polling it ourselves: show the leader's own account when it posted one.
        const remote = own?.role === 'leader' ? undefined : remoteStatus.get(symbol);
        const st = remote ? { ...remote, leader: own?.leader ?? remote.leader } : own;
        const ageMs = snap ? Math.max(0, Math.round(now - snap.asOf)) : null;
        return {
          symbol,
          source: snap?.source ?? source?.name ?? config.market.source,
          venues: source ? source.venues(symbol) : (snap?.venues ?? []),
          polling: own?.role === 'leader',
          leader: st?.leader ?? null,
          version: snap?.version ?? null,
          asOf: iso(snap?.asOf),
          ageMs,
          dataAsOf: iso(snap ? dataAsOfOf(snap) : null),
          stale: ageMs === null || ageMs > maxAgeMs,
          lastSuccessAt: iso(st?.lastSuccessAt),
          lastError: st?.lastError ?? null,
          consecutiveFailures: st?.consecutiveFailures ?? 0,
          venueStatus: (st?.venues ?? []).map((v) => ({
            venue: v.venue,
            state: v.state,
            consecutiveFailures: v.consecutiveFailures,
            lastSuccessAt: iso(v.lastSuccessAt),
            lastError: v.lastError,
            retryAt: iso(v.retryAt),
            ...(v.lastBarCloseAt === undefined ? {} : { lastBarCloseAt: iso(v.lastBarCloseAt) }),
            ...(v.contributing === undefined ? {} : { contributing: v.contributing }),
          })),
        };
      }),
    };
  };

  infra.metrics.gauge('liqgate_heatmap_age_seconds', 'Age of the latest heatmap this replica holds, per symbol (absent: none yet)', ['symbol'], () => {
    const now = clock();
    return symbols.flatMap((symbol): [Record<string, string>, number][] => {
      const snap = cache.get(symbol);
      return snap ? [[{ symbol }, Math.max(0, now - snap.asOf) / 1000]] : [];
    });
  });
  infra.metrics.gauge(
    'liqgate_venue_breaker_state',
    'Venue circuit breaker per symbol as the polling replica last reported it: 0 closed, 1 half_open, 2 open, 3 misconfigured',
    ['symbol', 'venue'],
    () =>
      symbolsStatus().symbols.flatMap((s) =>
        s.venueStatus.map((v): [Record<string, string>, number] => [{ symbol: s.symbol, venue: v.venue }, BREAKER_LEVEL[v.state]]),
      ),
  );

  return {
    name: 'heatmaps',
    reader: { get: (symbol) => cache.get(symbol) },
    store,
    async publish(snapshot): Promise<HeatmapSnapshot> {
      const r = await store.put(snapshot);
      const full = { ...snapshot, version: r.version };
      cache.apply(full);
      return full;
    },
    registerRoutes(app) {
      registerHeatmapRoutes(app, {
        symbols,
        maxAgeMs,
        pretradePolicyFor: (s) => policyFor(config.policy, s).pretrade,
        clock,
        cache,
        store,
        symbolsStatus,
      });
      registerVenuesRoute(app, () => venuesStatus(venueClock, config.market.pollIntervalMs));
    },
    async start() {
      if (started) return;
      started = true;
      reportFirstHeatmaps(clock(), symbols, cache, clock, logger);
      unsubscribe = await store.subscribe((symbol, version) => cache.announced(symbol, version));
      try {
        await cache.reconcile(symbols);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'could not load the latest heatmaps at start; the reconcile loop will retry');
      }
      reconcileLoop();
      for (const p of pollers.values()) p.start();
      venueClock?.start();
      logger.info({ symbols, polling: pollers.size > 0, store: config.store.kind }, 'heatmap module started');
    },
    async stop() {
      if (!started) return;
      started = false;
      if (reconcileTimer) clearTimeout(reconcileTimer);
      venueClock?.stop();
      await Promise.all([...pollers.values()].map((p) => p.stop()));
      if (unsubscribe) await unsubscribe().catch(() => undefined);
      unsubscribe = null;
      await store.close();
    },
    async readiness(): Promise<ReadinessCheck[]> {
      const now = clock();
      const heatmaps = symbols.map((s): ReadinessCheck => {
        const snap = cache.get(s);
        if (!snap) return { name: `heatmap:${s}`, ok: false, detail: 'no heatmap yet' };
        const age = now - snap.asOf;
        return age <= maxAgeMs
          ? { name: `heatmap:${s}`, ok: true }
          : { name: `heatmap:${s}`, ok: false, detail: `stale: ${Math.round(age)} ms old (max ${maxAgeMs} ms)` };
      });
      return [...heatmaps, ...(venueClock?.checks() ?? [])];
    },
  };
}
