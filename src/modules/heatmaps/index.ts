import type { Logger } from 'pino';
import { policyFor } from '../../config/policy.js';
import type { AppConfig } from '../../config/index.js';
import { TIMEFRAME_MS } from '../../domain/market-data.js';
import type { HealthStatus } from '../../domain/model-health/index.js';
import type { HeatmapSnapshot } from '../../stores/heatmap-store.js';
import type { HeatmapModule, ModuleInfra, ReadinessCheck } from '../module.js';
import type { PolicyAgreement } from '../../ops/policy-registry.js';
import { HeatmapCache } from './cache.js';
import { SymbolPoller, type LiquidationBatch } from './poller.js';
import { ReconcileLoop } from './reconcile.js';
import { registerHeatmapRoutes } from './routes.js';
import { symbolsStatus } from './symbols-status.js';
import { createVenueClockMonitor } from './venue-clock.js';
import { registerVenuesRoute, venuesStatus } from './venues-route.js';
import type { BreakerState, VenueHealthOptions } from './venue-health.js';

export { SymbolPoller, type LiquidationBatch } from './poller.js';
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
const HEALTH_LEVEL: Record<HealthStatus, number> = { unknown: 0, degraded: 1, healthy: 2 };

/**
 * Market data, poller, heatmap cache and the /heatmap, /symbols routes. Takes its store,
 * leases and status board from the stores; polls only when a market source is given;
 * serves every read from this replica's memory. /symbols also shows the policy registry's
 * account of which policy version each live replica runs.
 */
export function createHeatmapModule(infra: ModuleInfra, policy: { agreement(): Promise<PolicyAgreement> }): HeatmapModule {
  const { config, clock } = infra;
  const { heatmaps: store, leases, pollStatus: board } = infra.stores;
  const logger = infra.logger.child({ module: 'heatmaps' });
  const symbols = config.market.symbols;
  const maxAgeMs = config.market.heatmapMaxAgeMs;

  const cache = new HeatmapCache(store, logger);
  const reader = { get: (symbol: string) => cache.get(symbol) };
  const source = infra.marketSource;
  const pollers = new Map<string, SymbolPoller>();
  const freshness = barFreshness(config.market);
  // Every poll's new realized liquidations, per symbol, to whoever listens (onRealizedLiquidations).
  const liquidationListeners = new Set<(batch: LiquidationBatch) => void>();
  const realizedLiquidations = (batch: LiquidationBatch) => {
    for (const listen of liquidationListeners) listen(batch);
  };
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
          maintenanceMargin: policyFor(config.policy, symbol).maintenanceMargin,
          clock,
          logger,
          pollIntervalMs: config.market.pollIntervalMs,
          venueHealth: venueHealthOptions(config.market.pollIntervalMs),
          venueTimeoutMs: Math.max(10_000, 2 * config.market.pollIntervalMs),
          barMs: freshness.barMs,
          barMaxAgeMs: freshness.barMaxAgeMs,
          onSnapshot: (s) => cache.apply(s),
          onLiquidations: realizedLiquidations,
          onStatus: (st) => board.post(symbol, st),
          metrics: infra.metrics,
        }),
      );
    }
  }

  const reconcile = new ReconcileLoop({
    symbols,
    everyMs: Math.max(1_000, Math.min(config.market.pollIntervalMs * 2, maxAgeMs / 2)),
    cache,
    board,
    polls: (s) => pollers.get(s)?.isLeader ?? false,
    logger,
  });
  const venueClock = source ? createVenueClockMonitor(source, { clock, logger, pollIntervalMs: config.market.pollIntervalMs, metrics: infra.metrics }) : null;

  const status = () =>
    symbolsStatus({
      instanceId: config.instanceId,
      symbols,
      maxAgeMs,
      sourceName: config.market.source,
      source,
      now: clock(),
      reader,
      own: (s) => pollers.get(s)?.status(),
      remote: (s) => reconcile.remote(s),
    });

  infra.metrics.gauge('liqgate_heatmap_age_seconds', 'Age of the latest heatmap this replica holds, per symbol (absent: none yet)', ['symbol'], () => {
    const now = clock();
    return symbols.flatMap((symbol): [Record<string, string>, number][] => {
      const snap = cache.get(symbol);
      return snap ? [[{ symbol }, Math.max(0, now - snap.asOf) / 1000]] : [];
    });
  });
  // Model health and confidence as the latest map carries them (the polling replica's figures, on every replica).
  const fromMaps = (read: (snap: HeatmapSnapshot) => number | null | undefined) => () =>
    symbols.flatMap((symbol): [Record<string, string>, number][] => {
      const snap = cache.get(symbol);
      const v = snap ? read(snap) : undefined;
      return v === null || v === undefined ? [] : [[{ symbol }, v]];
    });
  infra.metrics.gauge(
    'liqgate_model_health_status',
    'Live model health per symbol from the latest map: 2 healthy, 1 degraded, 0 unknown (too few realized liquidations; counts as unhealthy)',
    ['symbol'],
    fromMaps((s) => (s.health ? HEALTH_LEVEL[s.health.status] : undefined)),
  );
  infra.metrics.gauge(
    'liqgate_model_swept_mass_score',
    'Rolling swept-mass Spearman of the maps against realized liquidations (absent while undefined)',
    ['symbol'],
    fromMaps((s) => s.health?.sweptMass),
  );
  infra.metrics.gauge(
    'liqgate_model_price_level_spearman',
    'Rolling mean per-period price-level Spearman of the maps against realized liquidations (absent while undefined)',
    ['symbol'],
    fromMaps((s) => s.health?.priceLevel),
  );
  infra.metrics.gauge('liqgate_model_window_events', 'Realized liquidations in the live health window', ['symbol'], fromMaps((s) => s.health?.events));
  infra.metrics.gauge(
    'liqgate_heatmap_confidence',
    'Confidence 0..1 of the latest map (weakest of located share, venue coverage, accuracy); absent on maps without one',
    ['symbol'],
    fromMaps((s) => s.confidence?.value),
  );
  infra.metrics.gauge(
    'liqgate_venue_breaker_state',
    'Venue circuit breaker per symbol as the polling replica last reported it: 0 closed, 1 half_open, 2 open, 3 misconfigured',
    ['symbol', 'venue'],
    () =>
      status().symbols.flatMap((s) =>
        s.venueStatus.map((v): [Record<string, string>, number] => [{ symbol: s.symbol, venue: v.venue }, BREAKER_LEVEL[v.state]]),
      ),
  );

  let started = false;
  let unsubscribe: (() => Promise<void>) | null = null;
  return {
    name: 'heatmaps',
    reader,
    onRealizedLiquidations(listener) {
      liquidationListeners.add(listener);
      return () => liquidationListeners.delete(listener);
    },
    registerRoutes(app) {
      registerHeatmapRoutes(app, {
        symbols,
        maxAgeMs,
        pretradePolicyFor: (s) => policyFor(config.policy, s).pretrade,
        clock,
        cache,
        store,
        symbolsStatus: status,
        policyAgreement: () => policy.agreement(),
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
      reconcile.start();
      for (const p of pollers.values()) p.start();
      venueClock?.start();
      logger.info({ symbols, polling: pollers.size > 0, store: config.store.kind }, 'heatmap module started');
    },
    async stop() {
      if (!started) return;
      started = false;
      reconcile.stop();
      venueClock?.stop();
      await Promise.all([...pollers.values()].map((p) => p.stop()));
      if (unsubscribe) await unsubscribe().catch(() => undefined);
      unsubscribe = null;
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
