import type { FastifyInstance, FastifyBaseLogger, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { RedisClient } from '../stores/redis-client.js';
import type { AppConfig } from '../config/index.js';
import type { Clock } from '../domain/clock.js';
import type { MarketSource } from '../market/market-source.js';
import type { RedisKeys } from '../stores/redis-keys.js';
import type { Scope } from '../auth/api-keys.js';
import type { AppMetrics, ServiceMetrics } from '../metrics.js';
import type { Stores } from '../stores/index.js';
import type { PretradeDecision, PretradeRequest } from './pretrade/schemas.js';

/** The Fastify instance every route module registers on: zod schemas drive types and docs. */
export type AppInstance = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * What the outside world hands the app: built by the server entry from config, or by
 * tests. The app closes none of these; their creator does.
 */
export interface AppDeps {
  clock: Clock;
  logger: Logger;
  /** A connected client when the store is Redis, else null. */
  redis: RedisClient | null;
  /** The market source the poller reads, or null to run without polling (tests that write heatmaps themselves). */
  marketSource: MarketSource | null;
  /**
   * Every store; built from the config and `redis` by createStores (and closed with the app)
   * when absent. Tests pass their own, some replaced, and close them (closeStores).
   */
  stores?: Stores;
  /** Where the service's metrics are collected; the server passes its own to serve them on METRICS_PORT too. */
  metrics?: AppMetrics;
}

/** What each module is built from: the stores it takes its own from, and shared infrastructure. */
export interface ModuleInfra {
  config: AppConfig;
  clock: Clock;
  logger: Logger;
  marketSource: MarketSource | null;
  stores: Stores;
  keys: RedisKeys;
  /** Where modules count events and register scrape-time gauges (GET /metrics). */
  metrics: ServiceMetrics;
}

export interface ReadinessCheck {
  /** e.g. `store`, `heatmap:BTCUSDT`. */
  name: string;
  ok: boolean;
  detail?: string;
}

/**
 * A slice of the service: its routes, its background work and its readiness.
 * `start` begins background work; `stop` ends it and flushes anything buffered
 * (nothing already accepted is lost); both are idempotent.
 */
export interface ServiceModule {
  readonly name: string;
  registerRoutes(app: AppInstance): void | Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  readiness(): Promise<ReadinessCheck[]>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
    scope?: Scope;
  }
  interface FastifyRequest {
    /** The caller's key id (never the key), set by the auth hook. */
    principal?: { keyId: string; scopes: Scope[]; accounts?: { default: string; allowed: readonly string[] } };
  }
}

import type { HeatmapSnapshot } from '../stores/heatmap-store.js';
import type { LiquidationBatch } from './heatmaps/poller.js';

/** Synchronous, in-memory view of the latest heatmap per symbol (never a Redis round trip). */
export interface HeatmapReader {
  get(symbol: string): HeatmapSnapshot | undefined;
}

/** Market data, poller, heatmap cache and the /heatmap, /symbols routes (src/modules/heatmaps). */
export interface HeatmapModule extends ServiceModule {
  readonly reader: HeatmapReader;
  /**
   * Calls `listener` after every poll this replica leads, per symbol, with the new realized
   * liquidations of each venue (possibly none). Returns the unsubscribe.
   */
  onRealizedLiquidations(listener: (batch: LiquidationBatch) => void): () => void;
}

/** The pre-trade gate, its stores, and the /pretrade-check, /decisions, /policy, /admin routes (src/modules/pretrade). */
export interface PretradeModule extends ServiceModule {
  /** The audit record (JSON) of one decision, or null when unknown or past retention: what GET /decisions/:id reads. */
  decisionRecord(decisionId: string): Promise<string | null>;
  /** Decides one validated order exactly as POST /pretrade-check does, audited under `keyId` (null: an idempotency conflict). */
  check(order: PretradeRequest, keyId: string): Promise<PretradeDecision | null>;
}
