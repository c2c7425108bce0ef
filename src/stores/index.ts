import type { RedisClient } from './redis-client.js';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/index.js';
import type { Clock } from '../domain/clock.js';
import { localStatusBoard, redisStatusBoard, type StatusBoard } from '../modules/heatmaps/status-board.js';
import { AuditArchiver } from './audit-archiver.js';
import { createAuditJournal, type AuditJournal } from './audit-journal.js';
import { createMemoryAuditLog, MEMORY_AUDIT_MAX_ENTRIES, type AuditLog } from './audit-log.js';
import { createRedisAuditLog } from './audit-log.redis.js';
import type { ExposureStore } from './exposure-store.js';
import { createMemoryExposureStore } from './exposure-store.memory.js';
import { primaryWrites, replicaWrites, type DurableWrites } from './durable-writes.js';
import { createRedisExposureStore } from './exposure-store.redis.js';
import type { HeatmapStore } from './heatmap-store.js';
import { createMemoryHeatmapStore, historyMaxEntries } from './heatmap-store.memory.js';
import { createRedisHeatmapStore } from './heatmap-store.redis.js';
import type { IdempotencyStore } from './idempotency-store.js';
import { createRedisIdempotencyStore } from './idempotency-store.redis.js';
import type { PollLeases } from './lease.js';
import { createMemoryLeases } from './lease.memory.js';
import { createRedisLeases } from './lease.redis.js';
import { createMemoryPosttradeStore, type PosttradeStore } from './posttrade-store.js';
import { createRedisPosttradeStore } from './posttrade-store.redis.js';
import { createRedisFailoverWatch, type RedisFailoverWatch } from './redis-failover.js';
import { redisKeys } from './redis-keys.js';
import { createMemoryTradingStateStore, type TradingStateStore } from './trading-state-store.js';
import { createRedisTradingStateStore } from './trading-state-store.redis.js';

/**
 * Every store the service uses. Built once by `createStores` (the one place that chooses
 * memory or Redis); the modules take what they need. Tests build the real app with some
 * of these replaced (a failing audit log, a switchable trading-state store).
 */
export interface Stores {
  /** Latest heatmap per symbol, its history and change announcements. */
  heatmaps: HeatmapStore;
  /** Which replica polls which symbol. */
  leases: PollLeases;
  /** The polling replica's status per symbol, for /symbols on the others. */
  pollStatus: StatusBoard;
  /** Where every pre-trade decision is recorded. */
  auditLog: AuditLog;
  /** The local append-only journal audit records go to while the log cannot take them (AUDIT_JOURNAL_DIR), or null. */
  auditJournal: AuditJournal | null;
  /** Archives the Redis audit stream to daily gzip files before it is trimmed (AUDIT_ARCHIVE_DIR with Redis), or null. */
  auditArchive: AuditArchiver | null;
  /** Idempotency shared by every replica; null when this process is the only one (its local record is enough). */
  idempotency: IdempotencyStore | null;
  /** The kill switch. */
  tradingState: TradingStateStore;
  /** Fills and their analyses. */
  posttrade: PosttradeStore;
  /** Account positions, fills and reservations, shared by every replica. */
  exposure: ExposureStore;
  /** When Redis last failed over (its identity changed), shared by every replica; null with the memory store. */
  redisFailover: RedisFailoverWatch | null;
  /**
   * The connection exposure, fill-record, trading-state and idempotency writes go on and the WAIT that
   * makes them durable with AUDIT_DURABILITY=replica (the audit log has its own); null with
   * the memory store.
   */
  durableWrites: DurableWrites | null;
}

export interface StoreDeps {
  /** A connected client when the store is Redis (the stores never close it), else null. */
  redis: RedisClient | null;
  clock: Clock;
  logger: Logger;
}

/** How often every replica compares the Redis server's identity (besides on each reconnection). */
const REDIS_IDENTITY_CHECK_MS = 1_000;

/** Memory (demo, tests) or Redis (production, several replicas), as `STORE` says. */
export function createStores(config: AppConfig, deps: StoreDeps): Stores {
  const { clock } = deps;
  const logger = deps.logger.child({ component: 'stores' });
  const keys = redisKeys(config.store.keyPrefix);
  const { historyRetentionMs, historyIntervalMs, leaseTtlMs } = config.cluster;
  const history = { retentionMs: historyRetentionMs, intervalMs: historyIntervalMs, maxEntries: historyMaxEntries(historyRetentionMs, historyIntervalMs) };
  const { auditMaxEntries, decisionLookupTtlMs } = config.pretrade;
  const retentionMs = config.posttrade.retentionMs;
  const audit = config.pretrade.audit;
  const auditJournal = audit.journalDir
    ? createAuditJournal({ dir: audit.journalDir, instanceId: config.instanceId, orphanMs: audit.journalOrphanMs })
    : null;
  const exposure = { fillRetentionMs: config.exposure.fillRetentionMs };

  if (config.store.kind === 'memory') {
    return {
      heatmaps: createMemoryHeatmapStore(history),
      leases: createMemoryLeases({ instanceId: config.instanceId, ttlMs: leaseTtlMs }),
      pollStatus: localStatusBoard,
      auditLog: createMemoryAuditLog(Math.min(auditMaxEntries, MEMORY_AUDIT_MAX_ENTRIES)),
      auditJournal,
      auditArchive: null,
      idempotency: null,
      tradingState: createMemoryTradingStateStore(),
      posttrade: createMemoryPosttradeStore(retentionMs, clock),
      exposure: createMemoryExposureStore(exposure),
      redisFailover: null,
      durableWrites: null,
    };
  }

  const redis = deps.redis;
  if (!redis) throw new Error('STORE=redis but no Redis client was given');
  const invalidLogged = new Map<string, string>();
  const writes = audit.durability === 'replica' ? replicaWrites(redis, { replicas: 1, timeoutMs: audit.waitTimeoutMs }) : primaryWrites(redis);
  return {
    heatmaps: createRedisHeatmapStore({ redis, keys, history, logger }),
    leases: createRedisLeases({ redis, keys, instanceId: config.instanceId, ttlMs: leaseTtlMs }),
    pollStatus: redisStatusBoard(redis, keys, Math.max(3 * leaseTtlMs, config.market.heatmapMaxAgeMs)),
    auditLog: createRedisAuditLog(redis, {
      streamKey: keys.auditStream(),
      decisionKey: (id) => keys.decision(id),
      legacyDecisionKey: (id) => keys.legacyDecision(id),
      // With an archive, only the archiver trims (behind what it archived); else a capped stream.
      maxLen: audit.archiveDir ? 0 : auditMaxEntries,
      decisionTtlMs: decisionLookupTtlMs,
      durability: audit.durability === 'replica' ? { mode: 'replica', replicas: 1, timeoutMs: audit.waitTimeoutMs } : { mode: 'primary' },
    }),
    auditJournal,
    auditArchive: audit.archiveDir
      ? new AuditArchiver(
          redis,
          logger,
          {
            streamKey: keys.auditStream(),
            group: 'archiver',
            consumer: config.instanceId,
            dir: audit.archiveDir,
            lookupWindowMs: decisionLookupTtlMs,
            batch: 1_000,
            intervalMs: 1_000,
            claimIdleMs: 60_000,
          },
          clock,
        )
      : null,
    idempotency: createRedisIdempotencyStore(redis, writes),
    tradingState: createRedisTradingStateStore(redis, {
      hashKey: keys.tradingState(),
      channel: keys.tradingStateChannel(),
      appliedKey: keys.tradingStateApplied(),
      writes,
      onInvalid: (field, stored, problem) => {
        // Logged once per distinct stored value, not on every periodic reload.
        if (invalidLogged.get(field) === stored) return;
        invalidLogged.set(field, stored);
        logger.error(
          { scope: field === '*' ? 'global' : field, stored: stored.slice(0, 500), problem },
          'invalid trading-state entry in the store: that scope is treated as HALTED until an admin sets it again',
        );
      },
    }),
    posttrade: createRedisPosttradeStore(redis, keys, { retentionMs, now: clock, writes }),
    exposure: createRedisExposureStore(redis, keys, { ...exposure, writes }),
    redisFailover: createRedisFailoverWatch({ redis, key: keys.redisIdentity(), clock, logger, intervalMs: REDIS_IDENTITY_CHECK_MS }),
    durableWrites: writes,
  };
}

/** Closes what the stores hold open (the heatmap store's subscriber connection); the Redis client stays its creator's to close. */
export async function closeStores(stores: Stores): Promise<void> {
  await stores.heatmaps.close();
  await stores.auditLog.close?.();
  await stores.durableWrites?.close();
}
