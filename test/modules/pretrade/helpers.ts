import type { Cluster } from '../../../src/domain/heatmap/types.js';
import type { OrderBook } from '../../../src/domain/market-data.js';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { createAuthHook } from '../../../src/auth/auth-hook.js';
import { configFromEnv } from '../../helpers/config.js';
import type { AppConfig } from '../../../src/config/index.js';
import { errorHandler } from '../../../src/http/errors.js';
import { createLogger } from '../../../src/logger.js';
import type { AppInstance, ModuleInfra } from '../../../src/modules/module.js';
import { noMetrics } from '../../../src/metrics.js';
import {
  createPretradeModule,
  type PretradeModuleOverrides,
  type PretradeModuleWithInternals,
} from '../../../src/modules/pretrade/index.js';
import type { HeatmapSnapshot } from '../../../src/stores/heatmap-store.js';
import { redisKeys } from '../../../src/stores/redis-keys.js';
import { bearer, initialiseTradingState, logSink, TEST_API_KEYS, TEST_KEYS } from '../../helpers/app.js';
import { randomPrefix, testRedisUrl } from '../../helpers/redis.js';
import { buildBook, buildHeatmap, NOW } from '../../domain/pretrade/factories.js';

export { NOW };

/** Puts a fresh calm heatmap (or the given clusters/book) in place for a symbol. */
export async function publishHeatmap(
  app: AppInstance,
  opts: { symbol?: string; clusters?: Cluster[]; orderBook?: OrderBook | null; asOf?: number } = {},
): Promise<HeatmapSnapshot> {
  const symbol = opts.symbol ?? 'BTCUSDT';
  const asOf = opts.asOf ?? NOW - 1_000;
  const heatmap = buildHeatmap({ symbol, asOf, ...(opts.clusters ? { clusters: opts.clusters } : {}) });
  return app.services.heatmaps.publish({
    symbol,
    asOf,
    source: 'sim',
    venues: ['binanceusdm'],
    heatmap,
    orderBook: opts.orderBook === undefined ? buildBook({ ts: asOf }) : opts.orderBook,
  });
}

export function buildRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { symbol: 'BTCUSDT', side: 'buy', quantity: 1, orderType: 'market', ...overrides };
}

export function check(app: AppInstance, body: unknown, key: string = TEST_KEYS.pretrade) {
  return app.inject({ method: 'POST', url: '/pretrade-check', headers: bearer(key), payload: body as object });
}

export function putTradingState(app: AppInstance, body: unknown, key: string = TEST_KEYS.admin) {
  return app.inject({ method: 'PUT', url: '/admin/trading-state', headers: bearer(key), payload: body as object });
}

export function getTradingState(app: AppInstance, key: string = TEST_KEYS.admin) {
  return app.inject({ method: 'GET', url: '/admin/trading-state', headers: bearer(key) });
}

export function checkBatch(app: AppInstance, orders: unknown[], key: string = TEST_KEYS.pretrade) {
  return app.inject({ method: 'POST', url: '/pretrade-check/batch', headers: bearer(key), payload: { orders } });
}

export function pretradeInternals(app: AppInstance): PretradeModuleWithInternals {
  return app.services.pretrade as PretradeModuleWithInternals;
}

/**
 * The pre-trade module alone on a Fastify app wired like the real one (zod compilers,
 * error handler, bearer auth), so a test can hand it failing stores. `heatmaps` is the
 * in-memory reader the test fills.
 */
export async function buildModuleApp(opts: {
  overrides?: PretradeModuleOverrides;
  clock?: () => number;
  store?: 'memory' | 'redis';
  redis?: Redis | null;
  prefix?: string;
  env?: Record<string, string>;
}): Promise<{
  app: AppInstance;
  config: AppConfig;
  module: PretradeModuleWithInternals;
  heatmaps: Map<string, HeatmapSnapshot>;
  logs: ReturnType<typeof logSink>;
  close(): Promise<void>;
}> {
  const store = opts.store ?? 'memory';
  const config = configFromEnv({
    NODE_ENV: 'test',
    API_KEYS: TEST_API_KEYS,
    SYMBOLS: 'BTCUSDT,ETHUSDT',
    STORE: store,
    REDIS_KEY_PREFIX: opts.prefix ?? randomPrefix('pretrade'),
    ...(store === 'redis' ? { REDIS_URL: testRedisUrl() } : {}),
    ...opts.env,
  });
  const logs = logSink();
  if (store === 'redis' && opts.redis && !opts.overrides?.tradingStateStore) await initialiseTradingState(opts.redis, config.store.keyPrefix);
  const infra: ModuleInfra = {
    clock: opts.clock ?? (() => NOW),
    logger: createLogger('info', logs.stream),
    redis: opts.redis ?? null,
    marketSource: null,
    config,
    keys: redisKeys(config.store.keyPrefix),
    metrics: noMetrics,
  };
  const heatmaps = new Map<string, HeatmapSnapshot>();
  const module = createPretradeModule(infra, { get: (s) => heatmaps.get(s) }, opts.overrides);
  const app: AppInstance = Fastify({ loggerInstance: infra.logger as FastifyBaseLogger }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  const auth = createAuthHook(config.auth.keys);
  app.addHook('onRequest', async (req, reply) => auth(req, reply));
  await module.registerRoutes(app);
  app.addHook('onReady', () => module.start());
  app.addHook('onClose', () => module.stop());
  await app.ready();
  return { app, config, module, heatmaps, logs, close: () => app.close() };
}

/** A snapshot as the heatmap module would serve it. */
export function buildSnapshot(overrides: Partial<HeatmapSnapshot> = {}): HeatmapSnapshot {
  const asOf = overrides.asOf ?? NOW - 1_000;
  return {
    symbol: 'BTCUSDT',
    version: 7,
    asOf,
    source: 'sim',
    venues: ['binanceusdm'],
    heatmap: buildHeatmap({ asOf }),
    orderBook: buildBook({ ts: asOf }),
    ...overrides,
  };
}
