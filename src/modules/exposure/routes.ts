import type { FastifyRequest } from 'fastify';
import { accountsOf, mayActFor } from '../../auth/api-keys.js';
import { exposureUse, positionsConfirmed, type ReserveContext } from '../../domain/exposure/limits.js';
import { portfolioRisk, positionRisk } from '../../domain/exposure/portfolio.js';
import { purge } from '../../domain/exposure/positions.js';
import { emptyAccount, type AccountState } from '../../domain/exposure/types.js';
import { maintenanceRateAt } from '../../domain/margin.js';
import { policyFor } from '../../config/policy.js';
import { type AppConfig } from '../../config/index.js';
import { CORRELATION_BAR_MS } from '../../domain/exposure/correlation.js';
import { ErrorBodySchema, HttpError } from '../../http/errors.js';
import { withTimeout } from '../../lib/async.js';
import { ReplicaAckError } from '../../stores/durable-writes.js';
import type { ExposureWriteJournal } from './write-journal.js';
import type { ExposureStore } from '../../stores/exposure-store.js';
import type { AppInstance, HeatmapReader } from '../module.js';
import type { CorrelationBoard } from './correlations.js';
import type { LimitUse } from './index.js';
import {
  AccountParamsSchema,
  DecisionParamsSchema,
  ExposureResponseSchema,
  PortfolioRequestSchema,
  PortfolioResponseSchema,
  ReconcileRequestSchema,
  ReconcileResponseSchema,
  ReleaseRequestSchema,
  ReleaseResponseSchema,
  ResetReducingResponseSchema,
  RiskSummarySchema,
} from './schemas.js';

export interface ExposureRouteDeps {
  config: AppConfig;
  clock: () => number;
  store: ExposureStore;
  correlations: CorrelationBoard;
  heatmaps: HeatmapReader;
  context(accountId: string, now: number): ReserveContext;
  limitUse(state: AccountState, now: number): LimitUse[];
  /** The last Redis failover seen (epoch ms), or null. */
  failoverAt(): number | null;
  /** Where releases go when Redis does not take them (AUDIT_JOURNAL_DIR with Redis), or null. */
  writeJournal: ExposureWriteJournal | null;
}

const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 503: ErrorBodySchema } as const;
const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const round2 = (x: number) => Math.round(x * 100) / 100;
const storeDown = (what: string) => new HttpError(503, 'STORE_UNAVAILABLE', `${what}: the exposure store did not answer; retry shortly`);

/** The accounts the caller's key may act for (a key configured without a list: its own id). */
function callerAccounts(req: FastifyRequest) {
  const p = req.principal;
  return p?.accounts ?? accountsOf({ id: p?.keyId ?? 'unknown' });
}

/** The account a request acts for: the one it names, or the key's default; 403 when the key may not. */
export function accountFor(req: FastifyRequest, named: string | undefined, path: string): string {
  const acc = callerAccounts(req);
  const id = named ?? acc.default;
  if (!mayActFor(acc.allowed, id))
    throw new HttpError(403, 'ACCOUNT_FORBIDDEN', `This API key may not act for account ${id}`, [{ path, message: 'not an account of this key' }]);
  return id;
}

async function guarded<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw storeDown(what);
  }
}

/**
 * A reconciliation the store did not take is a 503, never journaled (docs/exposure.md,
 * "While Redis is down"): a snapshot is true only as of its moment, and replayed later it
 * could confirm positions the account has left since. The engine sends a fresh one.
 */
async function reconciled<T>(req: FastifyRequest, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (err instanceof ReplicaAckError) {
      req.log.error({ err }, 'reconciliation not acknowledged by a Redis replica');
      throw new HttpError(
        503,
        'STORE_UNAVAILABLE',
        'The snapshot was not confirmed: no Redis replica acknowledged the write in time (AUDIT_DURABILITY=replica), so if the primary has it a failover could lose it. Reconciliations are not journaled: send it again, or a fresher one, once a replica is attached (the same snapshot again gives the same positions).',
      );
    }
    req.log.warn({ err }, 'the exposure store did not take a reconciliation');
    throw new HttpError(
      503,
      'STORE_UNAVAILABLE',
      'Positions were not reconciled: the exposure store did not answer. A snapshot is applied whole or not at all, and is not journaled: send it again, or a fresher one, once the store answers (GET /health/status); the same snapshot again gives the same positions.',
    );
  }
}

export function registerExposureRoutes(app: AppInstance, d: ExposureRouteDeps): void {
  const policy = d.config.exposure;

  app.put(
    '/accounts/:accountId/positions',
    {
      config: { scope: 'pretrade' },
      schema: {
        tags: ['exposure'],
        operationId: 'reconcilePositions',
        summary: "Reconcile an account's positions from the engine's or venue's snapshot; fills after its asOf are applied on top",
        params: AccountParamsSchema,
        body: ReconcileRequestSchema,
        response: { 200: ReconcileResponseSchema, ...errors, 409: ErrorBodySchema },
      },
    },
    async (req) => {
      const accountId = accountFor(req, req.params.accountId, 'params.accountId');
      const asOf = Date.parse(req.body.asOf);
      if (asOf > d.clock() + 5_000)
        throw new HttpError(400, 'BAD_REQUEST', 'asOf is in the future', [{ path: 'body.asOf', message: 'later than now' }]);
      const r = await reconciled(req, () => d.store.reconcile(accountId, asOf, req.body.positions, d.clock()));
      if (r.status === 'stale')
        throw new HttpError(409, 'STALE_SNAPSHOT', `A snapshot as of ${iso(r.reconciledAt)} is already in force; this one is older`, [
          { path: 'body.asOf', message: `older than ${iso(r.reconciledAt)}` },
        ]);
      return { accountId, reconciledAt: iso(asOf), replayedFills: r.replayedFills };
    },
  );

  app.get(
    '/accounts/:accountId/exposure',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['exposure'],
        operationId: 'getExposure',
        summary: "An account's positions, open reservations, and each limit with how much of it is used",
        params: AccountParamsSchema,
        response: { 200: ExposureResponseSchema, ...errors },
      },
    },
    async (req) => {
      const accountId = accountFor(req, req.params.accountId, 'params.accountId');
      const now = d.clock();
      const stored = await guarded('Exposure cannot be read', () => d.store.get(accountId));
      const state = stored ?? emptyAccount(accountId);
      const limits = d.limitUse(state, now);
      purge(state, now, policy.maxLossWindowMs);
      const ctx = d.context(accountId, now);
      const marks = ctx.marks;
      const realized = state.realized.reduce((s, e) => s + e.usd, 0);
      return {
        accountId,
        known: stored !== null,
        state: state.reducing ? ('REDUCING' as const) : ('ACTIVE' as const),
        reducingSince: isoOrNull(state.reducing?.since ?? null),
        positionsConfirmed: positionsConfirmed(state, now, ctx.positionsMaxAgeMs),
        reconciledAt: isoOrNull(state.reconciledAt),
        redisFailoverAt: isoOrNull(d.failoverAt()),
        scale: Math.round(ctx.scale * 1e4) / 1e4,
        positions: Object.entries(state.positions)
          .filter(([, p]) => p.quantity !== 0)
          .map(([symbol, p]) => {
            const mark = marks[symbol] ?? null;
            return {
              symbol,
              quantity: p.quantity,
              entryPrice: p.entryPrice,
              markPrice: mark,
              notionalUsd: mark === null ? null : round2(Math.abs(p.quantity) * mark),
              unrealizedPnlUsd: mark === null ? null : round2(p.quantity * (mark - p.entryPrice)),
            };
          }),
        reservations: state.reservations.map((r) => ({
          decisionId: r.decisionId,
          symbol: r.symbol,
          side: r.side,
          reduceOnly: r.reduceOnly,
          quantity: r.quantity,
          notionalUsd: round2(r.quantity * r.price),
          expiresAt: iso(r.expiresAt),
        })),
        realizedPnlUsd: round2(realized),
        limits,
        unpriced: exposureUse(state, marks).unpriced,
      };
    },
  );

  app.post(
    '/decisions/:decisionId/release',
    {
      config: { scope: 'pretrade' },
      schema: {
        tags: ['exposure'],
        operationId: 'releaseReservation',
        summary: "Release a decision's reservation (the order was cancelled or the venue rejected it); idempotent",
        params: DecisionParamsSchema,
        body: ReleaseRequestSchema,
        response: { 200: ReleaseResponseSchema, ...errors },
      },
    },
    async (req) => {
      const accountId = accountFor(req, req.body?.accountId, 'body.accountId');
      const { decisionId } = req.params;
      const journal = d.writeJournal;
      const journaled = async (err: unknown) => {
        if (err !== null) req.log.warn({ err }, 'the exposure store did not take a release: it goes to the local journal');
        await guarded('The reservation was not released', () => journal!.record({ kind: 'release', accountId, decisionId }));
        return { decisionId, accountId, released: null, journaled: true };
      };
      // While earlier writes wait in the journal, later ones follow them there (kept in order).
      if (journal?.journaling()) return journaled(null);
      try {
        const release = d.store.release(accountId, decisionId);
        // With a journal, a store that does not answer in time is as good as down (a late release changes nothing more).
        const released = journal ? await withTimeout(release, d.config.pretrade.audit.commitTimeoutMs, 'exposure store') : await release;
        return { decisionId, accountId, released, journaled: false };
      } catch (err) {
        if (journal) return journaled(err);
        throw storeDown('The reservation was not released');
      }
    },
  );

  app.post(
    '/accounts/:accountId/reset-reducing',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['exposure'],
        operationId: 'resetReducing',
        summary: 'End REDUCING after a max-loss breach (admin)',
        params: AccountParamsSchema,
        response: { 200: ResetReducingResponseSchema, ...errors },
      },
    },
    async (req) => {
      const accountId = accountFor(req, req.params.accountId, 'params.accountId');
      const wasReducing = await guarded('REDUCING was not reset', () => d.store.resetReducing(accountId));
      req.log.warn({ accountId, wasReducing, by: req.principal?.keyId }, 'account REDUCING reset by an admin');
      return { accountId, wasReducing };
    },
  );

  app.post(
    '/risk/portfolio',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['exposure'],
        operationId: 'assessPortfolio',
        summary: 'Risk of a book of positions against the liquidation zones, and the share of exposure to keep',
        body: PortfolioRequestSchema,
        response: { 200: PortfolioResponseSchema, ...errors },
      },
    },
    async (req) => {
      const problems: { path: string; message: string }[] = [];
      const risks = req.body.positions.flatMap((p, i) => {
        const snap = d.heatmaps.get(p.symbol);
        if (!snap) {
          problems.push({ path: `body.positions.${i}.symbol`, message: `no heatmap for ${p.symbol} (configured: ${d.config.market.symbols.join(', ')})` });
          return [];
        }
        const { pretrade: pre, maintenanceMargin } = policyFor(d.config.policy, p.symbol);
        return [positionRisk(p, snap.heatmap, maintenanceRateAt(maintenanceMargin, p.notional), pre.defaultLeverage)];
      });
      if (problems.length > 0) throw new HttpError(400, 'BAD_REQUEST', 'Some positions name a symbol without a heatmap', problems);
      if (d.correlations.measuredAt() === null) await d.correlations.refresh().catch(() => undefined);
      const at = d.correlations.measuredAt();
      return {
        ...portfolioRisk(risks, d.correlations.rho),
        correlationWindow: { barMs: CORRELATION_BAR_MS, returns: policy.correlationReturns, minReturns: policy.correlationMinReturns, measuredAt: isoOrNull(at) },
      };
    },
  );

  app.get(
    '/risk/summary',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['exposure'],
        operationId: 'getRiskSummary',
        summary: "Every symbol's risk score, crowding and nearest major cluster, and each account's limit use (the key's accounts)",
        response: { 200: RiskSummarySchema, ...errors },
      },
    },
    async (req) => {
      const now = d.clock();
      const symbols = d.config.market.symbols.map((symbol) => {
        const snap = d.heatmaps.get(symbol);
        if (!snap) return { symbol, available: false, riskScore: null, crowding: null, nearestMajorCluster: null, heatmapAsOf: null };
        const h = snap.heatmap;
        const nearest = h.clusters.filter((c) => c.major).sort((a, b) => Math.abs(a.distanceBps) - Math.abs(b.distanceBps))[0];
        return {
          symbol,
          available: true,
          riskScore: h.risk.score,
          crowding: { side: h.crowding.side, strength: h.crowding.strength },
          nearestMajorCluster: nearest
            ? { side: nearest.side, priceLow: nearest.priceLow, priceHigh: nearest.priceHigh, peakPrice: nearest.peakPrice, distanceBps: round2(Math.abs(nearest.distanceBps)), notionalUsd: nearest.notionalUsd }
            : null,
          heatmapAsOf: iso(snap.asOf),
        };
      });
      const allowed = callerAccounts(req).allowed;
      const ids = await guarded('Exposure cannot be read', async () => [
        ...new Set([...(await d.store.knownAccounts()), ...Object.keys(policy.accounts), ...allowed.filter((a) => a !== '*')]),
      ]);
      const visible = ids.filter((id) => mayActFor(allowed, id)).sort();
      const states = await guarded('Exposure cannot be read', () => Promise.all(visible.map((id) => d.store.get(id))));
      const accounts = visible.map((accountId, i) => {
        const state = states[i] ?? emptyAccount(accountId);
        return { accountId, state: state.reducing ? ('REDUCING' as const) : ('ACTIVE' as const), limits: d.limitUse(state, now) };
      });
      return { symbols, accounts };
    },
  );
}
