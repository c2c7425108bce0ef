import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { policyFor } from '../../config/policy.js';
import { stableStringify } from '../../lib/json.js';
import { withTimeout } from '../../lib/async.js';
import type { AppConfig } from '../../config/index.js';
import type { Clock } from '../../domain/clock.js';
import { evaluatePretrade, type MarketView } from '../../domain/pretrade/index.js';
import type {
  IdempotencyEntry,
  IdempotencyStore,
  LocalIdempotencyRecord,
  LocalIdempotencyStore,
} from '../../stores/idempotency-store.js';
import type { ServiceMetrics } from '../../metrics.js';
import type { HeatmapReader } from '../module.js';
import { HttpError } from '../../http/errors.js';
import type { AuditWriter } from './audit-writer.js';
import { jsonSerializerFor } from '../../http/schema-serializer.js';
import type { TradingStateCache } from './trading-state.js';
import { AuditRecordSchema, EXPOSURE_UNAVAILABLE, idempotencyId, type PretradeDecision, type PretradeRequest } from './schemas.js';
import type { ReserveOrder, ReserveOutcome } from '../../domain/exposure/limits.js';
import { effectiveSpec } from '../../domain/pretrade/spec.js';

/** How long an idempotent request waits for the shared store before falling back to local. */
export const IDEMPOTENCY_TIMEOUT_MS = 250;

/** How long a decision waits for the exposure store's check-and-reserve (or a replay's reservation lookup). */
export const EXPOSURE_TIMEOUT_MS = 250;

/** Records pushed to the shared store at once after an outage (one pipelined burst each). */
const PUSH_CHUNK = 100;

type StoredDecision = IdempotencyEntry<PretradeDecision>;

const auditRecordJson = jsonSerializerFor(AuditRecordSchema);

export type CheckOutcome =
  | { kind: 'decision'; decision: PretradeDecision; replayed: boolean }
  | { kind: 'conflict'; decisionId: string }
  /** A replay of an approval that no longer stands (past validUntil, or the trading state changed). */
  | { kind: 'expired'; decisionId: string; why: string };

/** What the gate needs of the exposure module (src/modules/exposure): one check-and-reserve per account, and a reservation's fate. */
export interface GateExposure {
  /** Check-and-reserve for orders of one account, keyed by their decisionIds (one store round trip). */
  reserve(accountId: string, orders: readonly ReserveOrder[], now: number): Promise<ReserveOutcome[]>;
  release(accountId: string, decisionId: string): Promise<boolean>;
  /** Whether the decision's reservation is still open (not released, consumed by fills or expired). */
  reservationOpen(accountId: string, decisionId: string, now: number): Promise<boolean>;
  /** Policy: reduce-only orders need confirmed positions (also: rejected when exposure cannot be confirmed). */
  readonly requireConfirmedPositions: boolean;
}

/** One order to check and the account it acts for (the caller resolved it: named, or the key's default). */
export interface GateOrder {
  order: PretradeRequest;
  accountId: string;
}

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
  /**
   * This process's store: the memory store; with a shared store, the records made while
   * it did not answer, honoured here and pushed to it once it answers again.
   */
  localIdempotency: LocalIdempotencyStore;
  metrics: ServiceMetrics;
  exposure: GateExposure;
}

/**
 * The gate: turns a validated request into a decision from memory only (heatmap cache,
 * trading-state cache, policy), answers it once its audit record is durable, and applies
 * idempotency (the one store round trip, only for requests with a clientOrderId; after a
 * store outage, the records made during it are pushed in the background).
 */
export class PretradeGate {
  private readonly symbols: Set<string>;
  /** The round of pushLocalRecords under way, if any. */
  private pushing: Promise<void> | null = null;
  /** Per idempotency key, the last same-key check under way on this replica (see checkMany). */
  private readonly idempotencyTurns = new Map<string, Promise<void>>();

  constructor(private readonly d: GateDeps) {
    this.symbols = new Set(d.config.market.symbols);
  }

  /** Whether the audit backlog leaves room for `n` more decisions. */
  hasRoom(n: number): boolean {
    return this.d.audit.hasRoom(n);
  }

  /**
   * The decision for one validated order, once its audit record is durable (record()).
   * A conflict or expired replay found by idempotency is answered without a new record.
   */
  async check(order: PretradeRequest, keyId: string, accountId: string): Promise<CheckOutcome> {
    const [out] = await this.checkMany([{ order, accountId }], keyId);
    return out as CheckOutcome;
  }

  /**
   * Decides every order from memory, then reserves the approved ones with one exposure
   * round trip per account (the final decision is the stricter of the rules and the
   * exposure check), then applies idempotency per order (its one round trip) and answers
   * each once its record is durable.
   */
  async checkMany(items: readonly GateOrder[], keyId: string): Promise<CheckOutcome[]> {
    const decided = items.map(({ order }) => this.decide(order));
    const final = await this.reserveAll(items, decided);
    return Promise.all(
      items.map(({ order, accountId }, i) => {
        const decision = final[i] as PretradeDecision;
        const reserved = (decided[i] as PretradeDecision).approvedQuantity > 0 && decision.approvedQuantity > 0;
        const clientOrderId = order.clientOrderId;
        if (clientOrderId === undefined) return this.record(order, decision, keyId);
        // Same-key requests on this replica take turns: the later one then finds the earlier
        // one's record (in the shared store, or in the local one when the store did not
        // answer in time) instead of racing it into the timeout path, where two same-key
        // answers could split between the local and the shared record.
        return this.inTurn(this.idempotencyKey(keyId, order, clientOrderId), () =>
          this.checkIdempotent(order, clientOrderId, decision, keyId, accountId, reserved),
        );
      }),
    );
  }

  /** The order as the exposure check sees it: the rules' approved quantity at the rules' one valuation price. */
  private reserveOrder(order: PretradeRequest, d: PretradeDecision): ReserveOrder {
    const { pretrade } = policyFor(this.d.config.policy, order.symbol);
    const snap = this.d.heatmaps.get(order.symbol);
    return {
      decisionId: d.decisionId,
      symbol: order.symbol,
      side: order.side,
      quantity: d.approvedQuantity,
      price: Math.max(d.approvedNotional / d.approvedQuantity, snap?.heatmap.markPrice ?? 0, order.limitPrice ?? 0),
      reduceOnly: order.reduceOnly,
      quantityStep: effectiveSpec(pretrade, snap?.spec).quantityStep,
    };
  }

  /**
   * Check-and-reserve for every order the rules approve (APPROVE or RESIZE with a quantity),
   * one store call per account. A rejection by the rules reserves nothing.
   */
  private async reserveAll(items: readonly GateOrder[], decided: PretradeDecision[]): Promise<PretradeDecision[]> {
    const final = [...decided];
    const byAccount = new Map<string, number[]>();
    decided.forEach((d, i) => {
      if (!(d.approvedQuantity > 0)) return;
      const acct = (items[i] as GateOrder).accountId;
      byAccount.set(acct, [...(byAccount.get(acct) ?? []), i]);
    });
    const now = this.d.clock();
    await Promise.all(
      [...byAccount].map(async ([accountId, idx]) => {
        const orders = idx.map((i) => this.reserveOrder((items[i] as GateOrder).order, decided[i] as PretradeDecision));
        const call = this.d.exposure.reserve(accountId, orders, now);
        let outs: ReserveOutcome[];
        try {
          outs = await withTimeout(call, EXPOSURE_TIMEOUT_MS, 'exposure store');
        } catch (err) {
          this.d.logger.warn({ err, accountId }, 'exposure store did not confirm the check-and-reserve; failing closed');
          // A timed-out script may still run: what it reserved for these (now unapproved) decisions is released.
          void call.then((late) => this.releaseAll(accountId, late.filter((o) => o.quantity > 0).map((o) => o.decisionId))).catch(() => {});
          for (const i of idx) final[i] = this.exposureUnavailable((items[i] as GateOrder).order, decided[i] as PretradeDecision);
          return;
        }
        idx.forEach((i, j) => {
          const out = outs[j];
          const d = decided[i] as PretradeDecision;
          final[i] = out === undefined ? this.exposureUnavailable((items[i] as GateOrder).order, d) : withExposure(d, out);
        });
      }),
    );
    return final;
  }

  /**
   * The exposure store did not confirm: a risk-adding order is rejected; a reduce-only one
   * keeps the rules' decision with a warning (it cannot open risk, and the venue enforces
   * reduce-only), unless the policy requires confirmed positions, which rejects it too.
   */
  private exposureUnavailable(order: PretradeRequest, d: PretradeDecision): PretradeDecision {
    const reason = {
      code: EXPOSURE_UNAVAILABLE,
      message: order.reduceOnly
        ? 'The exposure store did not confirm this account\'s exposure: the reduce-only order is passed without a reservation (nothing checks it against other reduce-only orders).'
        : 'The exposure store did not confirm this account\'s exposure: risk-adding orders are rejected until it answers.',
      limit: null,
      observed: null,
    } as const;
    const passes = order.reduceOnly && !this.d.exposure.requireConfirmedPositions;
    this.d.metrics.exposureUnavailable(passes ? 'passed' : 'rejected', 1);
    if (passes) return { ...d, warnings: [...d.warnings, reason] };
    return { ...d, decision: 'REJECT', approvedQuantity: 0, approvedNotional: 0, reasons: [...d.reasons, reason] };
  }

  /** Releases reservations that no answer stands on (a replay's fresh reservation, a timed-out script's), off the request path. */
  private releaseAll(accountId: string, decisionIds: readonly string[]): Promise<void> {
    return Promise.all(decisionIds.map((id) => this.d.exposure.release(accountId, id)))
      .then(() => undefined)
      .catch((err: unknown) => this.d.logger.warn({ err, accountId, decisionIds }, 'releasing unused reservations failed; they expire with reservationTtlMs'));
  }

  private idempotencyKey(keyId: string, order: PretradeRequest, clientOrderId: string): string {
    return this.d.idemKey(idempotencyId(keyId, order.accountId, clientOrderId));
  }

  /** Runs `fn` after every same-key call already under way on this replica has settled. */
  private async inTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const turn = (this.idempotencyTurns.get(key) ?? Promise.resolve()).then(fn);
    const done = turn.then(
      () => undefined,
      () => undefined,
    );
    this.idempotencyTurns.set(key, done);
    try {
      return await turn;
    } finally {
      if (this.idempotencyTurns.get(key) === done) this.idempotencyTurns.delete(key);
    }
  }

  private async checkIdempotent(
    order: PretradeRequest,
    clientOrderId: string,
    decision: PretradeDecision,
    keyId: string,
    accountId: string,
    reserved: boolean,
  ): Promise<CheckOutcome> {
    const key = this.idempotencyKey(keyId, order, clientOrderId);
    const hash = createHash('sha256').update(stableStringify(order)).digest('hex');
    const ttl = this.d.config.pretrade.idempotencyTtlMs;
    const entry: StoredDecision = { hash, response: decision, stateTag: this.d.tradingState.stateTag(order.symbol) };
    const shared = this.d.sharedIdempotency;
    let prior: StoredDecision | null;
    if (shared === null) {
      prior = await this.d.localIdempotency.putIfAbsent(key, entry, ttl);
    } else {
      // A Map lookup. A record this replica made while the shared store did not answer is
      // the answer it gave: it comes before a new decision even once the store answers.
      const outage = this.d.localIdempotency.peek<PretradeDecision>(key);
      prior = outage ? await this.pushOne(shared, key, outage) : await this.putShared(shared, key, entry, clientOrderId, ttl);
    }
    if (prior === null) return this.record(order, decision, keyId);
    // A decision stored by a version before confidence existed carries none: it is
    // answered (and its record committed again) with confidence null, "none known".
    if (prior.response.confidence === undefined) prior = { ...prior, response: { ...prior.response, confidence: null } };
    // The new decision is not answered: what it reserved is released.
    if (reserved && prior.response.decisionId !== decision.decisionId) void this.releaseAll(accountId, [decision.decisionId]);
    if (prior.hash !== hash) return { kind: 'conflict', decisionId: prior.response.decisionId };
    const why = this.noLongerStands(prior, order.symbol) ?? (await this.reservationGone(prior.response, accountId));
    if (why !== null) return { kind: 'expired', decisionId: prior.response.decisionId, why };
    // The stored decision's record is committed again (an idempotent insert: nothing new
    // when it is there): the first answer may have been a 503 because its record could not
    // be made durable, and a replay must not hand out a decision without its record.
    await this.commit(prior.response.decisionId, this.recordJson(order, prior.response, keyId));
    return { kind: 'decision', decision: prior.response, replayed: true };
  }

  /**
   * Why a stored approval no longer stands on a reservation, or null: an approval is
   * replayed only while its reservation is open (not released, consumed by fills or
   * expired), which the exposure store must confirm. A REJECT reserved nothing.
   */
  private async reservationGone(prior: PretradeDecision, accountId: string): Promise<string | null> {
    if (prior.decision === 'REJECT' || !(prior.approvedQuantity > 0)) return null;
    try {
      const open = await withTimeout(this.d.exposure.reservationOpen(accountId, prior.decisionId, this.d.clock()), EXPOSURE_TIMEOUT_MS, 'exposure store');
      return open ? null : 'its exposure reservation was released, consumed by fills or expired';
    } catch (err) {
      this.d.logger.warn({ err, accountId, decisionId: prior.decisionId }, 'exposure store did not confirm a replayed approval\'s reservation');
      return 'the exposure store could not confirm its reservation';
    }
  }

  /**
   * Why a stored approval (APPROVE or RESIZE) must not be replayed, or null. A REJECT is
   * always replayed: it allowed nothing. A record without validUntil or a state tag
   * (written by an older version) does not stand either.
   */
  private noLongerStands(prior: StoredDecision, symbol: string): string | null {
    if (prior.response.decision === 'REJECT') return null;
    const validUntil = Date.parse(prior.response.validUntil);
    if (!(this.d.clock() <= validUntil)) return `it was valid until ${prior.response.validUntil ?? 'an unknown time'}`;
    if (prior.stateTag !== this.d.tradingState.stateTag(symbol)) return 'the trading state changed since';
    return null;
  }

  /** The usual case: one `SET NX PX GET`; the local store only when the shared one does not answer. */
  private async putShared(
    shared: IdempotencyStore,
    key: string,
    entry: StoredDecision,
    clientOrderId: string,
    ttl: number,
  ): Promise<StoredDecision | null> {
    let prior: StoredDecision | null;
    try {
      prior = await withTimeout(shared.putIfAbsent(key, entry, ttl), IDEMPOTENCY_TIMEOUT_MS, 'idempotency store');
    } catch (err) {
      // Never fail open on risk, never 500: the decision is complete without the store.
      // Until the store answers again only this replica knows the decision; then it is
      // pushed (pushOne, pushLocalRecords). The timed-out SET may still land later (the
      // client's offline queue): the same decisionId, without the warning added below.
      this.d.logger.warn({ err, clientOrderId }, 'idempotency store unavailable; using the local record');
      this.d.metrics.idempotencyFallback();
      // A new array: the verdict's own is not ours to mutate.
      entry.response.warnings = [
        ...entry.response.warnings,
        {
          code: 'IDEMPOTENCY_UNAVAILABLE',
          message: 'The shared idempotency store did not answer: this decision is de-duplicated on this replica only.',
          limit: null,
          observed: null,
        },
      ];
      return this.d.localIdempotency.putIfAbsent(key, entry, ttl);
    }
    this.sharedAnswered();
    return prior;
  }

  /**
   * A retry of a key this replica decided while the shared store did not answer: its one
   * round trip pushes that record (with the TTL it has left) instead of a new decision,
   * and the request is answered from whichever record wins (settle).
   */
  private async pushOne(shared: IdempotencyStore, key: string, local: LocalIdempotencyRecord<PretradeDecision>): Promise<StoredDecision> {
    let inShared: StoredDecision | null;
    try {
      inShared = await withTimeout(shared.putIfAbsent(key, local.entry, this.ttlLeft(local)), IDEMPOTENCY_TIMEOUT_MS, 'idempotency store');
    } catch {
      return local.entry; // still no answer: the local record answers, as during the outage
    }
    const winner = this.settle(key, local.entry, inShared);
    this.sharedAnswered();
    return winner;
  }

  private ttlLeft(local: LocalIdempotencyRecord): number {
    return Math.max(1, Math.ceil(local.expiresAt - this.d.clock()));
  }

  /**
   * After a local record was pushed: the record the shared store holds wins, for every
   * replica. It is ours (stored now, or by an earlier push or a late SET), or another
   * decision for the same key that this replica could not see: another replica's, made
   * during the outage, or one stored before it. Both answers were already given; the
   * shared one as de-duplicated across replicas, ours with IDEMPOTENCY_UNAVAILABLE (this
   * replica only), so ours yields: the local record is dropped and this replica answers
   * from the shared one from now on. Both decisions are in the audit; the split is logged
   * with both ids.
   */
  private settle(key: string, local: StoredDecision, inShared: StoredDecision | null): StoredDecision {
    this.d.localIdempotency.remove(key, local);
    if (inShared === null || inShared.response.decisionId === local.response.decisionId) return local;
    this.d.logger.warn(
      { idempotencyKey: key, localDecisionId: local.response.decisionId, sharedDecisionId: inShared.response.decisionId },
      'idempotency split: the store holds another decision for a key this replica decided while it could not reach the store; the stored one wins, the local one is dropped',
    );
    return inShared;
  }

  /** The shared store answered: push the records left from an outage, off the request path. */
  private sharedAnswered(): void {
    if (this.pushing === null && this.d.localIdempotency.size() > 0) void this.pushLocalRecords();
  }

  /**
   * Pushes the records this replica made while the shared store did not answer, so that
   * other replicas replay them too. Started by the first shared-store answer after an
   * outage and not awaited by that request. Resolves when this round is over and never
   * rejects; a round that finds the store down again stops, and the next answer starts
   * another.
   */
  pushLocalRecords(): Promise<void> {
    const shared = this.d.sharedIdempotency;
    if (shared === null) return Promise.resolve();
    this.pushing ??= this.pushAll(shared)
      .catch((err: unknown) => this.d.logger.error({ err }, 'pushing local idempotency records failed'))
      .finally(() => {
        this.pushing = null;
      });
    return this.pushing;
  }

  private async pushAll(shared: IdempotencyStore): Promise<void> {
    const records = this.d.localIdempotency.live<PretradeDecision>();
    for (let i = 0; i < records.length; i += PUSH_CHUNK) {
      const now = this.d.clock();
      // Records that expired during a long round are left to the sweep, not pushed.
      const chunk = records.slice(i, i + PUSH_CHUNK).filter(([, local]) => local.expiresAt > now);
      const results = await Promise.allSettled(
        chunk.map(([key, local]) => withTimeout(shared.putIfAbsent(key, local.entry, this.ttlLeft(local)), IDEMPOTENCY_TIMEOUT_MS, 'idempotency store')),
      );
      let failed = 0;
      results.forEach((r, j) => {
        const [key, local] = chunk[j] as [string, LocalIdempotencyRecord<PretradeDecision>];
        if (r.status === 'fulfilled') this.settle(key, local.entry, r.value);
        else failed += 1;
      });
      if (failed > 0) {
        this.d.logger.warn(
          { notPushed: failed + Math.max(0, records.length - i - PUSH_CHUNK) },
          'idempotency store unavailable again; local records will be pushed after its next answer',
        );
        return;
      }
    }
  }

  private decide(order: PretradeRequest): PretradeDecision {
    const { config, clock, heatmaps, tradingState } = this.d;
    const snap = heatmaps.get(order.symbol);
    const market: MarketView | null = snap
      ? { heatmap: snap.heatmap, version: snap.version, asOf: snap.asOf, orderBook: snap.orderBook, source: snap.source, spec: snap.spec ?? null, confidence: snap.confidence ?? null }
      : null;
    const now = clock();
    const started = performance.now();
    const v = evaluatePretrade({
      order,
      knownSymbol: this.symbols.has(order.symbol),
      market,
      tradingState: tradingState.current(order.symbol),
      policy: policyFor(config.policy, order.symbol).pretrade,
      maintenanceMargin: policyFor(config.policy, order.symbol).maintenanceMargin,
      maxHeatmapAgeMs: config.market.heatmapMaxAgeMs,
      now,
    });
    this.d.metrics.evaluated((performance.now() - started) / 1000);
    return {
      decisionId: randomUUID(),
      evaluatedAt: new Date(now).toISOString(),
      validUntil: new Date(now + config.pretrade.decisionValidMs).toISOString(),
      symbol: order.symbol,
      side: order.side,
      clientOrderId: order.clientOrderId ?? null,
      ...v,
      heatmapAsOf: v.heatmapAsOf === null ? null : new Date(v.heatmapAsOf).toISOString(),
      heatmapVersion: snap?.version ?? null,
      policyVersion: config.policy.version,
    };
  }

  /** The decision's audit record, serialized from AuditRecordSchema. */
  private recordJson(order: PretradeRequest, decision: PretradeDecision, keyId: string): string {
    return auditRecordJson({
      decisionId: decision.decisionId,
      evaluatedAt: decision.evaluatedAt,
      keyId,
      instanceId: this.d.config.instanceId,
      request: order,
      decision,
      heatmapVersion: decision.heatmapVersion,
      policyVersion: decision.policyVersion,
    });
  }

  /**
   * The one point where an answer waits for durability: resolves once the record's group
   * is durable (Redis, or the local journal). When it cannot be made durable the check
   * fails with 503 AUDIT_UNAVAILABLE and no decision at all, not even a REJECT: every
   * decision a client holds has its record, and an engine treats no answer as no order
   * (and may retry, on this replica or another).
   */
  private async commit(decisionId: string, record: string): Promise<void> {
    try {
      await this.d.audit.enqueue({ decisionId, json: record });
    } catch (err) {
      this.d.logger.error({ err, decisionId }, 'decision not answered: its audit record could not be made durable');
      throw new HttpError(503, 'AUDIT_UNAVAILABLE', 'The decision could not be recorded durably; no decision was made. Retry shortly (or on another replica)');
    }
  }

  /** Commits the decision's audit record; the outcome exists only once the record is durable (commit). */
  private async record(order: PretradeRequest, decision: PretradeDecision, keyId: string): Promise<CheckOutcome> {
    await this.commit(decision.decisionId, this.recordJson(order, decision, keyId));
    this.d.metrics.decision(decision);
    return { kind: 'decision', decision, replayed: false };
  }
}

/** The stricter of the rules' decision and the exposure outcome (which never approves more than the rules did). */
function withExposure(d: PretradeDecision, out: ReserveOutcome): PretradeDecision {
  const warnings = [...d.warnings, ...out.warnings];
  const reasons = [...d.reasons, ...out.reasons];
  // A trading limit answers when the order would pass it (whole ms, at least 1).
  const retry = out.retryAfterMs === undefined ? {} : { retryAfterMs: Math.max(1, Math.ceil(out.retryAfterMs)) };
  if (out.quantity <= 0) return { ...d, decision: 'REJECT', approvedQuantity: 0, approvedNotional: 0, reasons, warnings, ...retry };
  if (out.quantity >= d.approvedQuantity) return { ...d, reasons, warnings, ...retry };
  const price = d.approvedNotional / d.approvedQuantity;
  return { ...d, decision: 'RESIZE', approvedQuantity: out.quantity, approvedNotional: out.quantity * price, reasons, warnings, ...retry };
}
