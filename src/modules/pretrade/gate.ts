import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { policyFor, stableStringify, type AppConfig } from '../../config.js';
import type { Clock } from '../../domain/clock.js';
import { evaluatePretrade, type MarketView } from '../../domain/pretrade/index.js';
import type { IdempotencyStore } from '../../stores/idempotency-store.js';
import type { HeatmapReader } from '../module.js';
import type { AuditWriter } from './audit-writer.js';
import { decisionJson } from './decision-json.js';
import type { TradingStateCache } from './trading-state.js';
import { idempotencyId, type PretradeDecision, type PretradeRequest } from './schemas.js';

/** How long an idempotent request waits for the shared store before falling back to local. */
export const IDEMPOTENCY_TIMEOUT_MS = 250;

export type CheckOutcome =
  /** `json` is the decision serialized once: the response body and the audit record share it. */
  | { kind: 'decision'; decision: PretradeDecision; json: string; replayed: boolean }
  | { kind: 'conflict'; decisionId: string };

export interface GateDeps {
  config: AppConfig;
  clock: Clock;
  logger: Logger;
  heatmaps: HeatmapReader;
  tradingState: TradingStateCache;
  audit: AuditWriter;
  idemKey: (id: string) => string;
  /** The shared store (Redis), or null with the memory store. */
  sharedIdempotency: IdempotencyStore | null;
  /** This process's store: the memory store, or the fallback when the shared one fails. */
  localIdempotency: IdempotencyStore;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * The gate: turns a validated request into a decision from memory only (heatmap cache,
 * trading-state cache, policy), records it for audit off the response path, and applies
 * idempotency (the one store round trip, only for requests with a clientOrderId).
 */
export class PretradeGate {
  private readonly symbols: Set<string>;
  private readonly instanceIdJson: string;
  private lastIsoMs = Number.NaN;
  private lastIso = '';

  constructor(private readonly d: GateDeps) {
    this.symbols = new Set(d.config.market.symbols);
    this.instanceIdJson = JSON.stringify(d.config.instanceId);
  }

  /** `new Date(ms).toISOString()`, remembered for the last instant (many checks share a millisecond). */
  private isoAt(ms: number): string {
    if (ms !== this.lastIsoMs) {
      this.lastIsoMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }

  /** Whether the audit backlog leaves room for `n` more decisions. */
  hasRoom(n: number): boolean {
    return this.d.audit.hasRoom(n);
  }

  /**
   * The decision for one validated order. Synchronous (no promise, no microtask) for an
   * order without clientOrderId, the hot path; a promise only when idempotency needs the
   * store.
   */
  check(order: PretradeRequest, keyId: string): CheckOutcome | Promise<CheckOutcome> {
    const decision = this.decide(order);
    if (order.clientOrderId === undefined) return this.record(order, decision, keyId);
    return this.checkIdempotent(order, order.clientOrderId, decision, keyId);
  }

  private async checkIdempotent(order: PretradeRequest, clientOrderId: string, decision: PretradeDecision, keyId: string): Promise<CheckOutcome> {
    const hash = createHash('sha256').update(stableStringify(order)).digest('hex');
    const key = this.d.idemKey(idempotencyId(keyId, order.accountId, clientOrderId));
    const ttl = this.d.config.pretrade.idempotencyTtlMs;
    let prior: { hash: string; response: PretradeDecision } | null;
    const shared = this.d.sharedIdempotency;
    if (shared) {
      try {
        prior = await withTimeout(shared.putIfAbsent(key, { hash, response: decision }, ttl), IDEMPOTENCY_TIMEOUT_MS);
      } catch (err) {
        // Never fail open on risk, never 500: the decision is complete without the store.
        // Only cross-replica de-duplication is lost; this replica still remembers it.
        this.d.logger.warn({ err, clientOrderId }, 'idempotency store unavailable; using the local record');
        // A new array: the verdict's own is not ours to mutate.
        decision.warnings = [
          ...decision.warnings,
          {
            code: 'IDEMPOTENCY_UNAVAILABLE',
            message: 'The shared idempotency store did not answer: this decision is de-duplicated on this replica only.',
            limit: null,
            observed: null,
          },
        ];
        prior = await this.d.localIdempotency.putIfAbsent(key, { hash, response: decision }, ttl);
      }
    } else {
      prior = await this.d.localIdempotency.putIfAbsent(key, { hash, response: decision }, ttl);
    }
    if (prior === null) return this.record(order, decision, keyId);
    if (prior.hash === hash) {
      return { kind: 'decision', decision: prior.response, json: JSON.stringify(prior.response), replayed: true };
    }
    return { kind: 'conflict', decisionId: prior.response.decisionId };
  }

  private decide(order: PretradeRequest): PretradeDecision {
    const { config, clock, heatmaps, tradingState } = this.d;
    const snap = heatmaps.get(order.symbol);
    const market: MarketView | null = snap
      ? { heatmap: snap.heatmap, version: snap.version, asOf: snap.asOf, orderBook: snap.orderBook, source: snap.source }
      : null;
    const now = clock();
    const v = evaluatePretrade({
      order,
      knownSymbol: this.symbols.has(order.symbol),
      market,
      tradingState: tradingState.current(order.symbol),
      policy: policyFor(config.policy, order.symbol).pretrade,
      maxHeatmapAgeMs: config.market.heatmapMaxAgeMs,
      now,
    });
    return {
      decisionId: randomUUID(),
      evaluatedAt: this.isoAt(now),
      symbol: order.symbol,
      side: order.side,
      clientOrderId: order.clientOrderId ?? null,
      decision: v.decision,
      requestedQuantity: v.requestedQuantity,
      approvedQuantity: v.approvedQuantity,
      requestedNotional: v.requestedNotional,
      approvedNotional: v.approvedNotional,
      reasons: v.reasons,
      warnings: v.warnings,
      riskScore: v.riskScore,
      nearestCluster: v.nearestCluster,
      expectedSlippageBps: v.expectedSlippageBps,
      timeOfDayMultiplier: v.timeOfDayMultiplier,
      heatmapAsOf: v.heatmapAsOf,
      heatmapAgeMs: v.heatmapAgeMs,
      heatmapVersion: snap?.version ?? null,
      source: v.source,
      policyVersion: config.policy.version,
    };
  }

  /** Serializes the decision once, queues the audit record around it (AuditRecordSchema's shape). */
  private record(order: PretradeRequest, decision: PretradeDecision, keyId: string): CheckOutcome {
    const json = decisionJson(decision);
    const record =
      `{"decisionId":${JSON.stringify(decision.decisionId)},"evaluatedAt":${JSON.stringify(decision.evaluatedAt)}` +
      `,"keyId":${JSON.stringify(keyId)},"instanceId":${this.instanceIdJson},"request":${JSON.stringify(order)}` +
      `,"decision":${json},"heatmapVersion":${JSON.stringify(decision.heatmapVersion)}` +
      `,"policyVersion":${JSON.stringify(decision.policyVersion)}}`;
    this.d.audit.enqueue({ decisionId: decision.decisionId, json: record });
    return { kind: 'decision', decision, json, replayed: false };
  }
}
