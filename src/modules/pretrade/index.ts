/**
 * The pre-trade service: POST /pretrade-check (+ /batch), GET /decisions/:id, GET /policy,
 * GET|PUT /admin/trading-state. Its hot path, idempotency, audit and trading state: docs/operations.md.
 */
import { randomUUID } from 'node:crypto';
import type { HeatmapReader, ModuleInfra, PretradeModule, ReadinessCheck } from '../module.js';
import type { AuditLog } from '../../stores/audit-log.js';
import { createMemoryIdempotencyStore } from '../../stores/idempotency-store.js';
import { AuditWriter, type AuditWriterOptions } from './audit-writer.js';
import { HaltFile } from './halt-file.js';
import { PretradeGate, type GateExposure } from './gate.js';
import { registerPretradeRoutes } from './routes.js';
import { TradingStateCache } from './trading-state.js';

/**
 * A replica that has not acknowledged the trading state for this many refreshes (and at
 * least TRADING_STATE_LIVE_MIN_MS) is gone: a PUT neither waits for it nor counts it.
 */
const TRADING_STATE_LIVE_REFRESHES = 8;
const TRADING_STATE_LIVE_MIN_MS = 2_000;

/**
 * How long GET /decisions/:id can read a decision from Redis (`decision:<id>` keys), apart
 * from the idempotency TTL. Costs about one record (~2 KB) of Redis memory per decision
 * made in this window. Longer retention is the audit stream consumer's job.
 */
/** Default of the DECISION_LOOKUP_TTL_MS variable (see src/config/env.ts). */
export const DECISION_LOOKUP_TTL_MS = 7 * 86_400_000;

/** The audit writer's group size and journal-replay backoff (its cap is AUDIT_BACKLOG_MAX, its commit timeout AUDIT_COMMIT_TIMEOUT_MS). */
export const AUDIT_WRITER_RETRY: Omit<AuditWriterOptions, 'maxPending' | 'commitTimeoutMs'> = {
  batchSize: 500,
  baseBackoffMs: 50,
  maxBackoffMs: 5_000,
};

/** A degradation check: failing while `detail` says what is wrong (shown by /health/status, never /health/ready). */
function degradationCheck(name: string, detail: string | null): ReadinessCheck {
  return { name, ok: detail === null, ...(detail === null ? {} : { detail }) };
}

export function createPretradeModule(infra: ModuleInfra, heatmaps: HeatmapReader, exposure: GateExposure): PretradeModule {
  const { config, keys, logger: rootLogger } = infra;
  const { auditLog, auditJournal: journal, auditArchive: archiver, tradingState: tsStore, idempotency: sharedIdempotency } = infra.stores;
  const logger = rootLogger.child({ module: 'pretrade' });

  const auditCfg = config.pretrade.audit;
  const writerOptions = { ...AUDIT_WRITER_RETRY, maxPending: config.pretrade.auditBacklogMax, commitTimeoutMs: auditCfg.commitTimeoutMs };
  const audit = new AuditWriter(auditLog, logger, writerOptions, journal, {
    heartbeatMs: Math.max(250, Math.floor(auditCfg.journalOrphanMs / 6)),
    orphanScanMs: Math.max(500, Math.floor(auditCfg.journalOrphanMs / 2)),
  });
  // Lookups see journaled records (not yet replayed) as well as the log.
  const auditReader: AuditLog = {
    append: (entries) => auditLog.append(entries),
    get: async (id) => (journal ? await journal.get(id).catch(() => null) : null) ?? auditLog.get(id),
  };
  // Readiness fails at a tenth of the cap, long before checks are refused, so a load
  // balancer drains this replica while it still answers.
  const readyBacklog = Math.max(1, Math.floor(writerOptions.maxPending / 10));

  // An unshared store (memory) has one writer, this process, so its copy cannot fall behind.
  const refreshMs = config.pretrade.tradingStateRefreshMs;
  const haltFile = config.pretrade.haltFile ? new HaltFile(config.pretrade.haltFile, config.market.symbols, logger) : null;
  // A replica whose last successful read is older than TRADING_STATE_MAX_AGE_MS may have
  // missed a halt: it treats every scope as HALTED and is not ready (never sooner than two refreshes).
  const maxAgeMs = Math.max(config.pretrade.tradingStateMaxAgeMs, 2 * refreshMs);
  const tradingState = new TradingStateCache(
    tsStore,
    logger,
    { clock: infra.clock, maxAgeMs: tsStore.shared ? maxAgeMs : Number.POSITIVE_INFINITY },
    haltFile,
    {
      // Two processes may share an INSTANCE_ID: the nonce tells them apart.
      id: `${config.instanceId}#${randomUUID().slice(0, 8)}`,
      liveMs: Math.max(TRADING_STATE_LIVE_MIN_MS, TRADING_STATE_LIVE_REFRESHES * refreshMs),
    },
  );

  const gate = new PretradeGate({
    config,
    clock: infra.clock,
    logger,
    heatmaps,
    tradingState,
    audit,
    idemKey: (id) => keys.idempotency(id),
    sharedIdempotency,
    localIdempotency: createMemoryIdempotencyStore(infra.clock),
    metrics: infra.metrics,
    exposure,
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
    decisionRecord: (decisionId) => auditReader.get(decisionId),
    check: async (order, keyId) => {
      // In process (the demo engine): the order's account, else the one named like the key.
      const out = await gate.check(order, keyId, order.accountId ?? keyId);
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
      if (!tsStore.shared) return; // memory: this process is the only writer
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
