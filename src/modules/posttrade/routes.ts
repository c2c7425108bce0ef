import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { policyFor } from '../../config/policy.js';
import { stableStringify } from '../../lib/json.js';
import type { AppConfig } from '../../config/index.js';
import { iso } from '../../lib/time.js';
import { buildReport, proposeTimeOfDay } from '../../domain/posttrade/report.js';
import type { Fill, FillAnalysis } from '../../domain/posttrade/types.js';
import { ErrorBodySchema, HttpError } from '../../http/errors.js';
import type { PosttradeStore } from '../../stores/posttrade-store.js';
import type { AppInstance, HeatmapReader } from '../module.js';
import { accountFor } from '../exposure/routes.js';
import type { ExposureModule } from '../exposure/index.js';
import { exposureFillOf, type ExposureWriteJournal } from '../exposure/write-journal.js';
import { withTimeout } from '../../lib/async.js';
import { contextOf } from './analyzer.js';
import {
  CalibrationQuerySchema,
  CalibrationSchema,
  FillAcceptedSchema,
  FillParamsSchema,
  FillRequestSchema,
  FillStatusSchema,
  type FillRequest,
  ReportQuerySchema,
  ReportSchema,
} from './schemas.js';

export interface PosttradeRouteDeps {
  config: AppConfig;
  clock: () => number;
  store: PosttradeStore;
  reader: HeatmapReader;
  /** Moves the account's exposure positions by the fill (idempotent by fillId), when exposure is tracked. */
  exposure?: Pick<ExposureModule, 'applyFill' | 'writeJournal'> | undefined;
}

export type FillFlag = 'NO_OPEN_RESERVATION' | 'JOURNALED';

/** One report reads at most this many analysed fills. */
export const REPORT_MAX_FILLS = 100_000;
const DEFAULT_RANGE_MS = 7 * 86_400_000;

const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema } as const;

const storeDown = (what: string) => new HttpError(503, 'STORE_UNAVAILABLE', `${what}: the store did not answer; retry shortly`);

/** A fill dated further ahead than this is a clock fault at the sender, not a fill. */
const MAX_FUTURE_SKEW_MS = 5_000;

export type FillIntake = (
  body: FillRequest,
  keyId: string,
  log: Pick<Logger, 'warn' | 'error'>,
) => Promise<{ status: 'accepted' | 'duplicate'; dueAt: number; flags: FillFlag[] }>;

/**
 * Records a fill once per fillId (POST /fills, and the demo engine): validates what the
 * schema cannot (a configured symbol, not in the future), keeps the market as this replica
 * sees it now, and queues the analysis at fill time + window. Throws HttpError.
 */
export function createFillIntake(d: PosttradeRouteDeps): FillIntake {
  const { config } = d;
  const symbols = new Set(config.market.symbols);
  return async (b, keyId, log) => {
    if (!symbols.has(b.symbol)) {
      throw new HttpError(400, 'VALIDATION_FAILED', `Symbol ${b.symbol} is not configured on this gate`, [{ path: 'body.symbol', message: 'not a configured symbol' }]);
    }
    const ts = Date.parse(b.executedAt);
    if (ts > d.clock() + MAX_FUTURE_SKEW_MS) {
      throw new HttpError(400, 'VALIDATION_FAILED', 'executedAt is in the future', [
        { path: 'body.executedAt', message: `more than ${MAX_FUTURE_SKEW_MS} ms ahead of this service's clock` },
      ]);
    }
    // Positions dedupe a fillId only while its executedAt is within fillRetentionMs: an older
    // fill could be applied once per resend (a reducing fill twice understates the exposure).
    if (d.exposure && ts < d.clock() - config.exposure.fillRetentionMs) {
      throw new HttpError(400, 'VALIDATION_FAILED', 'executedAt is older than the fill retention', [
        { path: 'body.executedAt', message: `more than fillRetentionMs (${config.exposure.fillRetentionMs} ms) before this service's clock: reconcile the positions instead` },
      ]);
    }
    const fill: Fill = {
      fillId: b.fillId,
      decisionId: b.decisionId ?? null,
      accountId: b.accountId ?? keyId,
      symbol: b.symbol,
      side: b.side,
      quantity: b.quantity,
      price: b.price,
      ts,
      fee: b.fee ?? null,
      reducesPosition: b.reducesPosition ?? null,
    };
    const hash = createHash('sha256').update(stableStringify(fill)).digest('hex');
    // The market as this replica holds it, when that is the market of the fill's moment.
    const snap = d.reader.get(b.symbol);
    const context = snap && Math.abs(snap.asOf - ts) <= config.market.heatmapMaxAgeMs ? contextOf(snap) : null;
    const dueAt = ts + config.posttrade.windowMs;
    const stored = { fill, hash, dueAt, context };
    const journal = d.exposure?.writeJournal ?? null;
    // Redis did not take it: durable in the local journal (fsynced) before the answer, applied once when replayed.
    const journaled = async (err: unknown) => {
      if (err !== null) log.warn({ err }, 'the store did not take a fill: it goes to the local journal');
      try {
        await journal!.record({ kind: 'fill', stored, now: d.clock() });
      } catch (journalErr) {
        log.error({ err: journalErr }, 'the fill could not be journaled either');
        throw storeDown('The fill was not recorded');
      }
      return { status: 'accepted' as const, dueAt, flags: ['JOURNALED' as const] };
    };
    // The journal holds this fillId (Redis has not seen it yet, so cannot answer a conflict):
    // another body is refused here, the same body gets the answer it got when journaled.
    // No await between this check and the journal's enqueue below: a concurrent resend cannot slip in.
    if (journal) await journalReady(journal, log);
    const held = journal?.journaledFill(b.fillId) ?? null;
    if (held && held.hash !== hash) {
      throw new HttpError(409, 'FILL_CONFLICT', `Fill ${b.fillId} was already recorded (journaled, not yet in Redis) with a different body`, [
        { path: 'body.fillId', message: 'already used with a different fill' },
      ]);
    }
    if (held?.durable) return { status: 'accepted', dueAt, flags: ['JOURNALED'] };
    // While earlier fills wait in the journal, later ones follow them there (kept in order).
    if (journal?.journaling()) return journaled(null);
    // With a journal, a store that does not answer in time is as good as down (what it
    // applies late is applied once: the replay is idempotent).
    const bounded = <T>(p: Promise<T>, what: string): Promise<T> => (journal ? withTimeout(p, config.pretrade.audit.commitTimeoutMs, what) : p);
    let prior;
    try {
      prior = await bounded(d.store.addFill(stored), 'post-trade store');
    } catch (err) {
      if (journal) return journaled(err);
      log.warn({ err }, 'post-trade store did not take a fill');
      throw storeDown('The fill was not recorded');
    }
    if (prior && prior.hash !== hash) {
      throw new HttpError(409, 'FILL_CONFLICT', `Fill ${b.fillId} was already recorded with a different body`, [
        { path: 'body.fillId', message: 'already used with a different fill' },
      ]);
    }
    let flags: FillFlag[];
    try {
      flags = await bounded(applyToExposure(d, fill), 'exposure store');
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (journal) return journaled(err);
      log.warn({ err }, 'exposure store did not take a fill');
      throw new HttpError(503, 'STORE_UNAVAILABLE', 'The fill was recorded but positions were not updated: the exposure store did not answer; resend the fill (it is applied once)');
    }
    return prior ? { status: 'duplicate', dueAt: prior.dueAt, flags } : { status: 'accepted', dueAt, flags };
  };
}

/**
 * Waits for the journal's index of journaled fills. A journal whose segments cannot be read
 * does not stop fills (Redis, or the journal's replay, still finds a conflict); it is logged.
 */
async function journalReady(journal: ExposureWriteJournal, log: Pick<Logger, 'warn' | 'error'>): Promise<void> {
  try {
    await journal.ready();
  } catch (err) {
    log.error({ err }, 'the exposure journal could not be read: a conflicting resend of a journaled fill is found only at replay');
  }
}

/**
 * Moves exposure positions by a fill the post-trade store took (or had): idempotent by
 * fillId, so a resend after a failure here applies it exactly once. A fill naming a
 * decision with no open reservation is applied and flagged. Rejects with the store's error
 * when it does not answer (the caller journals the fill, or answers 503).
 */
async function applyToExposure(d: PosttradeRouteDeps, fill: Fill): Promise<FillFlag[]> {
  if (!d.exposure) return [];
  const r = await d.exposure.applyFill(fill.accountId, exposureFillOf(fill), d.clock());
  if (r.status === 'conflict') {
    throw new HttpError(409, 'FILL_CONFLICT', `Fill ${fill.fillId} was already applied to positions with a different body`, [
      { path: 'body.fillId', message: 'already used with a different fill' },
    ]);
  }
  return r.status === 'applied' && fill.decisionId !== null && !r.reservationFound ? ['NO_OPEN_RESERVATION'] : [];
}

export function registerPosttradeRoutes(app: AppInstance, d: PosttradeRouteDeps): void {
  const { config } = d;
  const windowMs = config.posttrade.windowMs;
  const intake = createFillIntake(d);

  app.post(
    '/fills',
    {
      config: { scope: 'pretrade' },
      schema: {
        tags: ['posttrade'],
        operationId: 'reportFill',
        summary: 'Report one execution; its post-trade analysis is computed at fill time + window',
        body: FillRequestSchema,
        response: { 200: FillAcceptedSchema, 202: FillAcceptedSchema, ...errors, 409: ErrorBodySchema, 503: ErrorBodySchema },
      },
    },
    async (req, reply) => {
      const accountId = accountFor(req, req.body.accountId, 'body.accountId');
      const r = await intake({ ...req.body, accountId }, req.principal?.keyId ?? 'unknown', req.log);
      return reply.code(r.status === 'accepted' ? 202 : 200).send({ fillId: req.body.fillId, status: r.status, analysisDueAt: iso(r.dueAt), flags: r.flags });
    },
  );

  app.get(
    '/posttrade/fills/:fillId',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['posttrade'],
        operationId: 'getFill',
        summary: 'One fill\'s analysis, or that it is pending',
        params: FillParamsSchema,
        response: { 200: FillStatusSchema, ...errors, 404: ErrorBodySchema, 503: ErrorBodySchema },
      },
    },
    async (req) => {
      const { fillId } = req.params;
      let stored, analysis: FillAnalysis | null;
      try {
        [stored, analysis] = await Promise.all([d.store.getFill(fillId), d.store.getAnalysis(fillId)]);
      } catch {
        throw storeDown('Post-trade results cannot be read');
      }
      if (!stored) throw new HttpError(404, 'NOT_FOUND', `No fill ${fillId} (unknown, or past its retention)`);
      return { fillId, status: analysis ? ('analysed' as const) : ('pending' as const), analysisDueAt: iso(stored.dueAt), analysis };
    },
  );

  const range = (q: { from?: string | undefined; to?: string | undefined }) => {
    const to = q.to ? Date.parse(q.to) : d.clock();
    const from = q.from ? Date.parse(q.from) : to - DEFAULT_RANGE_MS;
    if (from > to) throw new HttpError(400, 'VALIDATION_FAILED', 'from is after to', [{ path: 'querystring.from', message: 'must not be after to' }]);
    return { from, to };
  };
  const load = async (q: { symbol?: string | undefined; accountId?: string | undefined }, from: number, to: number) => {
    let rows: FillAnalysis[];
    try {
      rows = await d.store.analyses(from, to, REPORT_MAX_FILLS);
    } catch {
      throw storeDown('Post-trade results cannot be read');
    }
    const truncated = rows.length >= REPORT_MAX_FILLS;
    return { truncated, rows: rows.filter((a) => (!q.symbol || a.symbol === q.symbol) && (!q.accountId || a.accountId === q.accountId)) };
  };

  app.get(
    '/posttrade/report',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['posttrade'],
        operationId: 'getPosttradeReport',
        summary: 'Were exits hit by cluster-driven volatility? Slippage inside vs outside zones; predicted vs realized per UTC hour',
        querystring: ReportQuerySchema,
        response: { 200: ReportSchema, ...errors, 503: ErrorBodySchema },
      },
    },
    async (req) => {
      const { from, to } = range(req.query);
      const { rows, truncated } = await load(req.query, from, to);
      let pending = 0;
      try {
        pending = (await d.store.due(Number.MAX_SAFE_INTEGER, REPORT_MAX_FILLS)).length;
      } catch {
        throw storeDown('Post-trade results cannot be read');
      }
      return { from: iso(from), to: iso(to), windowMs, pending, truncated, ...buildReport(rows) };
    },
  );

  app.get(
    '/posttrade/calibration',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['posttrade'],
        operationId: 'getCalibration',
        summary: 'Policy changes the realized slippage suggests (time-of-day depth multipliers), with n and intervals; never applied',
        querystring: CalibrationQuerySchema,
        response: { 200: CalibrationSchema, ...errors, 503: ErrorBodySchema },
      },
    },
    async (req) => {
      const { from, to } = range(req.query);
      const { rows } = await load(req.query, from, to);
      const policy = policyFor(config.policy, req.query.symbol ?? config.market.symbols[0] ?? '').pretrade;
      return {
        symbol: req.query.symbol ?? null,
        from: iso(from),
        to: iso(to),
        applied: false as const,
        timeOfDayHourlyUtc: proposeTimeOfDay(rows, policy.timeOfDayHourlyUtc, req.query.minSamples),
      };
    },
  );
}
