import { maintenanceRateAt } from '../../domain/margin.js';
import { within } from '../../lib/async.js';
import { policyFor } from '../../config/policy.js';
import { exposureUse, positionsMaxAge, type ReserveContext, type ReserveOrder, type ReserveOutcome } from '../../domain/exposure/limits.js';
import { limitsFor, positionLimitFor } from '../../domain/exposure/policy.js';
import { portfolioRisk, positionRisk } from '../../domain/exposure/portfolio.js';
import { accountPnl, purge } from '../../domain/exposure/positions.js';
import { QTY_EPSILON, type AccountState, type ExposureFill } from '../../domain/exposure/types.js';
import { timeOfDayMultiplier } from '../../domain/pretrade/time-of-day.js';
import type { ExposureStore, FillResult } from '../../stores/exposure-store.js';
import type { HeatmapReader, ModuleInfra, ReadinessCheck, ServiceModule } from '../module.js';
import { createCorrelationBoard, type CorrelationBoard } from './correlations.js';
import { registerExposureRoutes } from './routes.js';
import { createExposureWriteJournal, type ExposureWriteJournal } from './write-journal.js';
import type { GateExposure } from '../pretrade/gate.js';

/** One limit and how much of it is used (GET /accounts/:id/exposure, GET /risk/summary). */
export interface LimitUse {
  name: 'maxPositionNotionalUsd' | 'maxGrossNotionalUsd' | 'maxNetNotionalUsd' | 'maxOpenReservations' | 'maxLossUsd';
  symbol: string | null;
  limit: number | null;
  used: number | null;
  usedShare: number | null;
}

/** Account positions, reservations and limits, shared by every replica (src/modules/exposure, docs/exposure.md). */
export interface ExposureModule extends ServiceModule {
  readonly store: ExposureStore;
  readonly correlations: CorrelationBoard;
  /** What the limits are checked with for this account now (limits, scale, marks). */
  context(accountId: string, now: number): ReserveContext;
  /** Check-and-reserve for orders of one account (one store round trip). */
  reserve(accountId: string, orders: readonly ReserveOrder[], now: number): Promise<ReserveOutcome[]>;
  applyFill(accountId: string, fill: ExposureFill, now: number): Promise<FillResult>;
  /** Each limit of the account and how much is used, at the marks. */
  limitUse(state: AccountState, now: number): LimitUse[];
  /** What the pre-trade gate calls: reserve, release, a reservation's fate. */
  readonly gateExposure: GateExposure;
  /** Where fills and releases go when Redis does not take them (AUDIT_JOURNAL_DIR with Redis), or null. */
  readonly writeJournal: ExposureWriteJournal | null;
}

/** How often, with scaleWithPortfolioMultiplier on, every known account's portfolio multiplier is computed again. */
export const MULTIPLIER_REFRESH_MS = 15_000;
/** How long start() waits for the first computation of the multipliers (the rest goes on in the background). */
const FIRST_MULTIPLIERS_WAIT_MS = 2_000;

const round2 = (x: number) => Math.round(x * 100) / 100;
const share = (used: number | null, limit: number | null) => (used === null || limit === null || limit <= 0 ? null : Math.round((used / limit) * 1e4) / 1e4);

export function createExposureModule(infra: ModuleInfra, reader: HeatmapReader): ExposureModule {
  const { config, clock } = infra;
  const policy = config.exposure;
  const logger = infra.logger.child({ module: 'exposure' });
  const store = infra.stores.exposure;
  const correlations = createCorrelationBoard({
    symbols: config.market.symbols,
    store: infra.stores.heatmaps,
    returns: policy.correlationReturns,
    minReturns: policy.correlationMinReturns,
    clock,
    logger,
  });
  const audit = config.pretrade.audit;
  const writeJournal =
    config.store.kind === 'redis' && audit.journalDir
      ? createExposureWriteJournal({
          dir: audit.journalDir,
          instanceId: config.instanceId,
          orphanMs: audit.journalOrphanMs,
          commitTimeoutMs: audit.commitTimeoutMs,
          posttrade: infra.stores.posttrade,
          exposure: store,
          logger,
        })
      : null;
  const failoverWatch = infra.stores.redisFailover;
  const failoverAt = (): number | null => failoverWatch?.failoverAt() ?? null;
  // The portfolio multiplier of each account as of its last read on this replica (1 until then).
  const multipliers = new Map<string, number>();

  const marks = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const s of config.market.symbols) {
      const snap = reader.get(s);
      if (snap) out[s] = snap.heatmap.markPrice;
    }
    return out;
  };

  const context = (accountId: string, now: number): ReserveContext => {
    const tod = policy.scaleWithTimeOfDay ? timeOfDayMultiplier(config.policy.defaults.pretrade, now) : 1;
    const portfolio = policy.scaleWithPortfolioMultiplier ? (multipliers.get(accountId) ?? 1) : 1;
    return {
      now,
      limits: limitsFor(policy, accountId),
      scale: tod * portfolio,
      marks: marks(),
      positionsMaxAgeMs: positionsMaxAge(policy.positionsMaxAgeMs, now, failoverAt()),
      requireConfirmedPositions: policy.requireConfirmedPositions,
      reservationTtlMs: policy.reservationTtlMs,
      maxLossWindowMs: policy.maxLossWindowMs,
    };
  };

  /** Notes the account's portfolio multiplier from its positions (for scaleWithPortfolioMultiplier). */
  const noteMultiplier = (state: AccountState): void => {
    const risks = [];
    for (const [symbol, p] of Object.entries(state.positions)) {
      const snap = reader.get(symbol);
      if (!snap || Math.abs(p.quantity) <= QTY_EPSILON) continue;
      const { pretrade: pre, maintenanceMargin } = policyFor(config.policy, symbol);
      const notional = Math.abs(p.quantity) * snap.heatmap.markPrice;
      risks.push(
        positionRisk(
          { symbol, side: p.quantity > 0 ? 'long' : 'short', notional, entryPrice: p.entryPrice > 0 ? p.entryPrice : undefined },
          snap.heatmap,
          maintenanceRateAt(maintenanceMargin, notional),
          pre.defaultLeverage,
        ),
      );
    }
    multipliers.set(state.accountId, portfolioRisk(risks, correlations.rho).exposureMultiplier);
  };

  const limitUse = (raw: AccountState, now: number): LimitUse[] => {
    const state = structuredClone(raw);
    purge(state, now, policy.maxLossWindowMs);
    noteMultiplier(state);
    const ctx = context(state.accountId, now);
    const use = exposureUse(state, ctx.marks);
    const valued = use.unpriced.length === 0;
    const symbols = [...new Set([...Object.keys(state.positions), ...state.reservations.map((r) => r.symbol)])].sort();
    const pnl = accountPnl(state, ctx.marks, now, policy.maxLossWindowMs);
    const loss = pnl === null ? null : round2(Math.max(0, -pnl));
    const usd = (x: number) => (valued ? round2(x) : null);
    return [
      ...symbols.map((s): LimitUse => {
        const limit = round2(positionLimitFor(ctx.limits, s) * ctx.scale);
        const used = s in use.positionUsd ? round2(use.positionUsd[s] ?? 0) : use.unpriced.includes(s) ? null : 0;
        return { name: 'maxPositionNotionalUsd', symbol: s, limit, used, usedShare: share(used, limit) };
      }),
      { name: 'maxGrossNotionalUsd', symbol: null, limit: round2(ctx.limits.maxGrossNotionalUsd * ctx.scale), used: usd(use.grossUsd), usedShare: share(usd(use.grossUsd), ctx.limits.maxGrossNotionalUsd * ctx.scale) },
      { name: 'maxNetNotionalUsd', symbol: null, limit: round2(ctx.limits.maxNetNotionalUsd * ctx.scale), used: usd(use.netUsd), usedShare: share(usd(use.netUsd), ctx.limits.maxNetNotionalUsd * ctx.scale) },
      { name: 'maxOpenReservations', symbol: null, limit: ctx.limits.maxOpenReservations, used: use.openReservations, usedShare: share(use.openReservations, ctx.limits.maxOpenReservations) },
      { name: 'maxLossUsd', symbol: null, limit: ctx.limits.maxLossUsd, used: loss, usedShare: share(loss, ctx.limits.maxLossUsd) },
    ];
  };

  /**
   * With scaleWithPortfolioMultiplier on, the gate scales an account's limits by its
   * multiplier as last computed on this replica: every known account's is computed at
   * start, every MULTIPLIER_REFRESH_MS and after each of its fills (besides every read of
   * the account), so the switch acts without anyone reading the account.
   */
  const noteMultiplierOf = async (accountId: string): Promise<void> => {
    const state = await store.get(accountId);
    if (!state) return;
    purge(state, clock(), policy.maxLossWindowMs);
    noteMultiplier(state);
  };
  const refreshMultipliers = async (): Promise<void> => {
    for (const accountId of await store.knownAccounts()) await noteMultiplierOf(accountId);
  };
  let multiplierTimer: NodeJS.Timeout | undefined;
  const scaling = policy.scaleWithPortfolioMultiplier;

  const reserveNow = (accountId: string, orders: readonly ReserveOrder[], now: number) => store.reserve(accountId, orders, context(accountId, now));
  const gateExposure: GateExposure = {
    reserve: reserveNow,
    release: (accountId, decisionId) => store.release(accountId, decisionId),
    reservationOpen: async (accountId, decisionId, now) =>
      ((await store.get(accountId))?.reservations ?? []).some((r) => r.decisionId === decisionId && r.expiresAt > now && r.quantity > QTY_EPSILON),
    requireConfirmedPositions: policy.requireConfirmedPositions,
  };

  // Read at scrape time, from the store (every replica shows the shared state).
  const scrapeUse = async () => {
    const now = clock();
    const out: { accountId: string; use: LimitUse[]; open: number }[] = [];
    const accounts = new Set([...(await store.knownAccounts()), ...Object.keys(policy.accounts)]);
    for (const accountId of [...accounts].sort()) {
      const state = await store.get(accountId);
      if (!state) continue;
      const use = limitUse(state, now);
      out.push({ accountId, use, open: use.find((u) => u.name === 'maxOpenReservations')?.used ?? 0 });
    }
    return out;
  };
  infra.metrics.gauge(
    'liqgate_exposure_limit_use_ratio',
    'Share of each exposure limit used, worst case (every open reservation filled), per account (known accounts: configured, a fill, a reconciliation or a reservation), limit and symbol (per-symbol limits)',
    ['account', 'limit', 'symbol'],
    async () =>
      (await scrapeUse()).flatMap(({ accountId, use }) =>
        use.filter((u) => u.usedShare !== null).map((u): [Record<string, string>, number] => [{ account: accountId, limit: u.name, symbol: u.symbol ?? '' }, u.usedShare ?? 0]),
      ),
  );
  infra.metrics.gauge('liqgate_exposure_reservations_open', 'Reservations open per known account (approved orders not yet filled, released or expired)', ['account'], async () =>
    (await scrapeUse()).map(({ accountId, open }): [Record<string, string>, number] => [{ account: accountId }, open]),
  );

  let started = false;
  return {
    name: 'exposure',
    store,
    correlations,
    context,
    limitUse,
    gateExposure,
    writeJournal,
    reserve: reserveNow,
    applyFill: async (accountId, fill, now) => {
      const r = await store.applyFill(accountId, fill, now);
      if (scaling && r.status === 'applied')
        void noteMultiplierOf(accountId).catch((err: unknown) => logger.warn({ err, accountId }, 'portfolio multiplier not computed after a fill; the last one stands'));
      return r;
    },
    registerRoutes: (app) => registerExposureRoutes(app, { config, clock, store, correlations, heatmaps: reader, context, limitUse, failoverAt, writeJournal }),
    async start() {
      if (started) return;
      started = true;
      correlations.start();
      failoverWatch?.start();
      writeJournal?.start();
      if (!scaling) return;
      const run = () => refreshMultipliers().catch((err: unknown) => logger.warn({ err }, 'portfolio multipliers not computed; the last ones stand'));
      await within(run(), FIRST_MULTIPLIERS_WAIT_MS, undefined);
      multiplierTimer = setInterval(() => void run(), MULTIPLIER_REFRESH_MS);
      multiplierTimer.unref();
    },
    async stop() {
      started = false;
      correlations.stop();
      failoverWatch?.stop();
      await writeJournal?.stop(Date.now() + Math.min(5_000, Math.floor(config.server.shutdownTimeoutMs / 2)));
      clearInterval(multiplierTimer);
      multiplierTimer = undefined;
    },
    async readiness(): Promise<ReadinessCheck[]> {
      const checks: ReadinessCheck[] = [];
      if (writeJournal?.journaling()) {
        checks.push({ name: 'exposure-journal', ok: false, detail: 'the exposure store failed: fills and releases go to the local journal until it is replayed' });
      }
      const at = failoverAt();
      if (at === null) return checks;
      // Degraded while a failover still shortens the positions' max age: accounts need a new snapshot.
      const recent = clock() - at < policy.positionsMaxAgeMs;
      const detail = recent
        ? `redis failed over at ${new Date(at).toISOString()}: positions reconciled before it count as unconfirmed until reconciled (PUT /accounts/:id/positions)`
        : `last redis failover at ${new Date(at).toISOString()}`;
      return [...checks, { name: 'redis-failover', ok: !recent, detail }];
    },
  };
}
