/**
 * The pre-trade service: POST /pretrade-check (+ /batch), GET /decisions/:id, GET /policy,
 * GET|PUT /admin/trading-state. Decisions where issue 5 left room (tested in
 * test/modules/pretrade):
 *
 * - Hot path. A decision reads only memory: the heatmap cache, the trading-state cache
 *   and the parsed policy. A request without clientOrderId makes no store call at all;
 *   one with a clientOrderId makes exactly one (`SET NX PX GET`). The check routes
 *   serialize with JSON.stringify rather than the zod encoder (see routes.ts).
 * - Idempotency. Key = clientOrderId scoped by the caller's API key id and by accountId
 *   (another key sending the same ids gets its own decision, never this one's, nor a 409
 *   naming it); value = SHA-256 of the canonical
 *   body (sorted keys, defaults applied: `reduceOnly: false` sent or omitted is the same
 *   body) plus the decision. Same hash: the stored decision (same decisionId, header
 *   `idempotent-replay: true`, not audited twice), unless it is an approval that no
 *   longer stands (past validUntil, or another trading-state tag): 409 DECISION_EXPIRED;
 *   other hash: 409 IDEMPOTENCY_CONFLICT.
 *   TTL IDEMPOTENCY_TTL_MS. When Redis does not answer within 250 ms the decision is
 *   still made and returned with warning IDEMPOTENCY_UNAVAILABLE and kept in a local
 *   record (same TTL); the gate never 500s and never relaxes a risk rule for it. Retries
 *   to this replica de-duplicate against that record, also once Redis answers again: an
 *   idempotent request first looks in the local store (a Map lookup), and when it finds a
 *   record, its one `SET NX` stores that record in Redis (with the TTL it has left)
 *   instead of a new decision. The first idempotent request Redis answers after an outage
 *   also starts a background push of all local records, after which other replicas replay
 *   them; until then (or while this replica gets no idempotent request) another replica
 *   can still decide such a key anew. A pushed record leaves the local store, which is
 *   therefore empty outside outages. If Redis already holds another decision for the key
 *   (another replica decided it during the split), the one in Redis wins for every
 *   replica, this one included: it was given as de-duplicated everywhere, the local one
 *   with a warning saying "this replica only". The local record is dropped and the split
 *   logged with both decision ids; both decisions stay in the audit. Duplicate keys
 *   inside one batch are a 400.
 * - Audit. Every new decision is answered only once its record is durable (AuditWriter,
 *   a group commit; README "Audit durability"): in memory, a ring of at most
 *   AUDIT_MAX_ENTRIES records and 128 MB (~60k records), held off the JS heap (see
 *   audit-log.ts); or, with the Redis store, a stream (`audit`, XADD MAXLEN ~
 *   AUDIT_MAX_ENTRIES) plus `decision:<id>` lookup keys (TTL DECISION_LOOKUP_TTL_MS,
 *   default 7 days, apart from the 24 h idempotency TTL), inserted once per decisionId.
 *   When Redis fails, groups go to the journal (AUDIT_JOURNAL_DIR), replayed later; with
 *   neither, the check is a 503 AUDIT_UNAVAILABLE with no decision. Over 100k records
 *   waiting for their commit the gate refuses new checks with 503 AUDIT_BACKLOG;
 *   readiness fails from 10k (a tenth of the cap).
 * - Audit retention. GET /decisions/:id reads the index key `decision:<id>` (the stream
 *   entry id, TTL DECISION_LOOKUP_TTL_MS) and then that entry, so it answers 404 once the
 *   key expired or the entry was trimmed (or the memory ring evicted the record). With
 *   AUDIT_ARCHIVE_DIR a consumer group archives the stream to daily gzip files
 *   (audit-archiver.ts) and only the archiver trims: below the oldest unarchived entry and
 *   past the lookup window. Without it the stream is capped (MAXLEN ~ AUDIT_MAX_ENTRIES).
 * - Trading state. Read from the in-memory copy; PUT writes through (Redis hash + pub/sub
 *   in one MULTI) and changes memory only once stored; if the store fails: 503
 *   STORE_UNAVAILABLE, state unchanged. Replicas reload on the announcement and every 5 s
 *   (TRADING_STATE_REFRESH_MS). Until loaded once, every scope counts as HALTED (only
 *   reduce-only passes). A replica cut off from the store must not enforce an old copy for
 *   ever (it may have missed a halt): when its last successful read is older than
 *   3 x TRADING_STATE_REFRESH_MS (15 s by default), every scope counts as HALTED and
 *   readiness fails (check `trading-state`, detail with the age) until a read succeeds;
 *   a brief outage (under three refreshes) changes nothing. The memory store has a
 *   single writer, this process, so it never goes stale. Every stored
 *   entry is validated on load (trading-state-store.ts): an invalid one (`"halted"`, not
 *   JSON, a missing field) is logged at error and read as HALTED for its scope, and GET
 *   /admin/trading-state shows it as HALTED with a reason starting "INVALID stored
 *   trading-state entry" (an admin PUT replaces it). A store without the initialisation
 *   marker (written by a global PUT) reads as HALTED everywhere, and the break-glass
 *   HALT_FILE tightens any scope without Redis (README, "Trading state"); neither fails
 *   readiness, since both apply to every replica alike.
 * - Scopes: checks `pretrade`; GET /decisions/:id and GET /policy `read` (a record holds
 *   another caller's request; the caller already has its own decision in the response);
 *   trading state `admin`.
 * - Batch: 1..PRETRADE_BATCH_MAX orders, each evaluated like a single check; one invalid
 *   order rejects the whole batch with a 400 naming `body.orders.<i>.<field>` before
 *   anything is decided; an order whose idempotency key conflicts or expired gets an
 *   error entry in its place, the others their decisions (every audited decision is
 *   answered).
 */
import type { HeatmapReader, ModuleInfra, PretradeModule, ReadinessCheck } from '../module.js';
import { createMemoryAuditLog, MEMORY_AUDIT_BYTES, type AuditLog } from '../../stores/audit-log.js';
import { createRedisAuditLog } from '../../stores/audit-log.redis.js';
import { createAuditJournal, type AuditJournal } from '../../stores/audit-journal.js';
import { createMemoryIdempotencyStore, type IdempotencyStore } from '../../stores/idempotency-store.js';
import { createRedisIdempotencyStore } from '../../stores/idempotency-store.redis.js';
import { createMemoryTradingStateStore, type TradingStateStore } from '../../stores/trading-state-store.js';
import { createRedisTradingStateStore } from '../../stores/trading-state-store.redis.js';
import { AuditArchiver } from './audit-archiver.js';
import { AuditWriter, type AuditWriterOptions } from './audit-writer.js';
import { HaltFile } from './halt-file.js';
import { PretradeGate } from './gate.js';
import { registerPretradeRoutes } from './routes.js';
import { TradingStateCache } from './trading-state.js';
import { instrumentStore } from '../../metrics.js';

/**
 * A replica whose last successful trading-state read is older than this many refreshes
 * (TRADING_STATE_REFRESH_MS) may have missed a halt: it treats every scope as HALTED and
 * is not ready.
 */
export const TRADING_STATE_MAX_AGE_REFRESHES = 3;

/**
 * How long GET /decisions/:id can read a decision from Redis (`decision:<id>` keys), apart
 * from the idempotency TTL. Costs about one record (~2 KB) of Redis memory per decision
 * made in this window. Longer retention is the audit stream consumer's job.
 */
/** Default of the DECISION_LOOKUP_TTL_MS variable (see src/config.ts). */
export const DECISION_LOOKUP_TTL_MS = 7 * 86_400_000;

export const DEFAULT_AUDIT_WRITER: AuditWriterOptions = {
  maxPending: 100_000,
  batchSize: 500,
  baseBackoffMs: 50,
  maxBackoffMs: 5_000,
  commitTimeoutMs: 1_000,
};

/** Seams for tests (a failing audit log, a store that cannot be reached). */
export interface PretradeModuleOverrides {
  auditLog?: AuditLog;
  auditWriter?: Partial<AuditWriterOptions>;
  auditJournal?: AuditJournal;
  idempotency?: IdempotencyStore;
  tradingStateStore?: TradingStateStore;
}

export interface PretradeModuleWithInternals extends PretradeModule {
  readonly gate: PretradeGate;
  readonly audit: AuditWriter;
  readonly archiver: AuditArchiver | null;
  readonly tradingState: TradingStateCache;
}

/** A check that never fails readiness, with a detail only when there is something to say. */
/** A degradation check: failing while `detail` says what is wrong (shown by /health/status, never /health/ready). */
function degradationCheck(name: string, detail: string | null): ReadinessCheck {
  return { name, ok: detail === null, ...(detail === null ? {} : { detail }) };
}

export function createPretradeModule(
  infra: ModuleInfra,
  heatmaps: HeatmapReader,
  overrides: PretradeModuleOverrides = {},
): PretradeModuleWithInternals {
  const { config, redis, keys, logger: rootLogger } = infra;
  const logger = rootLogger.child({ module: 'pretrade' });
  const useRedis = config.store.kind === 'redis' && redis !== null;

  const auditCfg = config.pretrade.audit;
  const redisAuditLog = useRedis
    ? createRedisAuditLog(redis, {
        streamKey: keys.auditStream(),
        decisionKey: (id) => keys.decision(id),
        // With an archive, only the archiver trims (behind what it archived); else a capped stream.
        maxLen: auditCfg.archiveDir ? 0 : config.pretrade.auditMaxEntries,
        decisionTtlMs: infra.config.pretrade.decisionLookupTtlMs,
        durability:
          auditCfg.durability === 'replica' ? { mode: 'replica', replicas: 1, timeoutMs: auditCfg.waitTimeoutMs } : { mode: 'primary' },
      })
    : null;
  const auditLog = instrumentStore(
    overrides.auditLog ?? redisAuditLog ?? createMemoryAuditLog(config.pretrade.auditMaxEntries, MEMORY_AUDIT_BYTES),
    'audit',
    infra.metrics,
  );
  const journal =
    overrides.auditJournal ??
    (auditCfg.journalDir
      ? createAuditJournal({ dir: auditCfg.journalDir, instanceId: config.instanceId, orphanMs: auditCfg.journalOrphanMs })
      : null);
  const writerOptions = { ...DEFAULT_AUDIT_WRITER, commitTimeoutMs: auditCfg.commitTimeoutMs, ...overrides.auditWriter };
  const audit = new AuditWriter(auditLog, logger, writerOptions, journal, {
    heartbeatMs: Math.max(250, Math.floor(auditCfg.journalOrphanMs / 6)),
    orphanScanMs: Math.max(500, Math.floor(auditCfg.journalOrphanMs / 2)),
  });
  const archiver =
    useRedis && auditCfg.archiveDir
      ? new AuditArchiver(
          redis,
          logger,
          {
            streamKey: keys.auditStream(),
            group: 'archiver',
            consumer: config.instanceId,
            dir: auditCfg.archiveDir,
            lookupWindowMs: config.pretrade.decisionLookupTtlMs,
            batch: 1_000,
            intervalMs: 1_000,
            claimIdleMs: 60_000,
          },
          infra.clock,
        )
      : null;
  // Lookups see journaled records (not yet replayed) as well as the log.
  const auditReader: AuditLog = {
    append: (entries) => auditLog.append(entries),
    get: async (id) => (journal ? await journal.get(id).catch(() => null) : null) ?? auditLog.get(id),
  };
  // Readiness fails at a tenth of the cap, long before checks are refused, so a load
  // balancer drains this replica while it still answers.
  const readyBacklog = Math.max(1, Math.floor(writerOptions.maxPending / 10));

  const invalidLogged = new Map<string, string>();
  const tsStore = instrumentStore(
    overrides.tradingStateStore ??
    (useRedis
      ? createRedisTradingStateStore(redis, {
          hashKey: keys.tradingState(),
          channel: keys.tradingStateChannel(),
          onInvalid: (field, stored, problem) => {
            // Logged once per distinct stored value, not on every periodic reload.
            if (invalidLogged.get(field) === stored) return;
            invalidLogged.set(field, stored);
            logger.error(
              { scope: field === '*' ? 'global' : field, stored: stored.slice(0, 500), problem },
              'invalid trading-state entry in the store: that scope is treated as HALTED until an admin sets it again',
            );
          },
        })
      : createMemoryTradingStateStore()),
    'trading-state',
    infra.metrics,
  );
  // The memory store has one writer, this process, so its copy cannot fall behind.
  const sharedTradingState = overrides.tradingStateStore !== undefined || useRedis;
  const refreshMs = config.pretrade.tradingStateRefreshMs;
  const haltFile = config.pretrade.haltFile ? new HaltFile(config.pretrade.haltFile, config.market.symbols, logger) : null;
  const tradingState = new TradingStateCache(
    tsStore,
    logger,
    {
      clock: infra.clock,
      maxAgeMs: sharedTradingState ? TRADING_STATE_MAX_AGE_REFRESHES * refreshMs : Number.POSITIVE_INFINITY,
    },
    haltFile,
  );

  const sharedIdempotency = overrides.idempotency ?? (useRedis ? createRedisIdempotencyStore(redis) : null);
  const gate = new PretradeGate({
    config,
    clock: infra.clock,
    logger,
    heatmaps,
    tradingState,
    audit,
    idemKey: (id) => keys.idempotency(id),
    sharedIdempotency: sharedIdempotency && instrumentStore(sharedIdempotency, 'idempotency', infra.metrics),
    localIdempotency: createMemoryIdempotencyStore(infra.clock),
    metrics: infra.metrics,
  });
  infra.metrics.gauge('liqgate_audit_backlog', 'Decisions answered but not yet written to the audit log', [], () => [[{}, audit.backlog()]]);
  infra.metrics.gauge(
    'liqgate_trading_state_degraded',
    'Every scope is held HALTED by a degradation: reason="uninitialised" (no initialisation marker in the store), "halt-file" (break-glass file in force), "unusable" (the state cannot be read)',
    ['reason'],
    () => [
      [{ reason: 'uninitialised' }, tradingState.degradedReason() === null ? 0 : 1],
      [{ reason: 'halt-file' }, haltFile?.view().detail ? 1 : 0],
      [{ reason: 'unusable' }, tradingState.unusableReason() === null ? 0 : 1],
    ],
  );

  let refreshTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let started = false;
  let stopped = false;

  return {
    name: 'pretrade',
    gate,
    audit,
    archiver,
    tradingState,
    decisionRecord: (decisionId) => auditReader.get(decisionId),
    check: async (order, keyId) => {
      const out = await gate.check(order, keyId);
      return out.kind === 'decision' ? out.decision : null;
    },
    registerRoutes: (app) => registerPretradeRoutes(app, { config, clock: infra.clock, gate, audit, auditLog: auditReader, tradingState }),
    start: async () => {
      if (started) return;
      started = true;
      // The break-glass file first: it applies from the first request, whatever the store says.
      await haltFile?.start(config.pretrade.haltFilePollMs);
      // Replays what a crashed earlier run (or a replica gone for good) left in the journal.
      audit.start();
      archiver?.start();
      await tradingState.reload();
      if (!sharedTradingState) return; // memory: this process is the only writer
      try {
        unsubscribe = await tsStore.subscribe(() => void tradingState.reload());
      } catch (err) {
        logger.error({ err }, 'cannot subscribe to trading-state changes; relying on the periodic refresh');
      }
      refreshTimer = setInterval(() => void tradingState.reload(), refreshMs);
      refreshTimer.unref();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(refreshTimer);
      haltFile?.stop();
      if (unsubscribe) await unsubscribe().catch(() => {});
      const budget = Math.min(5_000, Math.floor(config.server.shutdownTimeoutMs / 2));
      await archiver?.stop();
      await audit.stop(Date.now() + budget);
      await redisAuditLog?.close();
    },
    readiness: async (): Promise<ReadinessCheck[]> => {
      const backlog = audit.backlog();
      const auditOk = backlog < readyBacklog;
      const tradingStateUnusable = tradingState.unusableReason();
      return [
        {
          name: 'audit',
          ok: auditOk,
          ...(auditOk ? {} : { detail: `${backlog} decision records waiting to be written` }),
        },
        ...(journal
          ? [degradationCheck('audit-journal', audit.journaling() ? 'the audit log failed: decision records go to the local journal until it is replayed' : null)]
          : []),
        {
          name: 'trading-state',
          ok: tradingStateUnusable === null,
          ...(tradingStateUnusable === null ? {} : { detail: tradingStateUnusable }),
        },
        // Both halt every scope: visible for alerting in /health/status; /health/ready (what
        // the load balancer routes on) does not read these, so engines still get their
        // rejections and admins reach the routes that lift them.
        degradationCheck('trading-state-initialised', tradingState.degradedReason()),
        ...(haltFile ? [degradationCheck('halt-file', haltFile.view().detail)] : []),
      ];
    },
  };
}
