import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { rebinHeatmap } from '../../domain/heatmap/index.js';
import { ErrorBodySchema, HttpError } from '../../http/errors.js';
import type { HeatmapSnapshot, HeatmapStore } from '../../stores/heatmap-store.js';
import type { AppInstance } from '../module.js';
import type { HeatmapCache } from './cache.js';
import {
  HeatmapHistoryQuerySchema,
  HeatmapHistorySchema,
  HeatmapQuerySchema,
  HeatmapResponseSchema,
  SymbolParamsSchema,
  SymbolsResponseSchema,
  type HeatmapResponse,
  type SymbolsResponse,
} from './schemas.js';
import { renderHeatmapPage } from './view-page.js';
import { regridLadder } from '../../domain/heatmap/time-grid.js';
import { confidenceValueOf, noTradeBufferFor } from '../../domain/pretrade/facts.js';
import type { PretradePolicy } from '../../domain/pretrade/policy.js';
import { iso } from '../../lib/time.js';

export interface HeatmapRoutesDeps {
  symbols: string[];
  maxAgeMs: number;
  /** The gate's policy per symbol (the page draws its no-trade buffer). */
  pretradePolicyFor(symbol: string): PretradePolicy;
  clock: Clock;
  cache: HeatmapCache;
  store: HeatmapStore;
  symbolsStatus(): Omit<SymbolsResponse, 'policy'>;
  /** This replica's policy version beside every live replica's (the policy registry). */
  policyAgreement(): Promise<SymbolsResponse['policy']>;
}

/** The response for a stored map at a shape (rebinned when it differs from the stored one) and an instant. */
function render(snap: HeatmapSnapshot, rangePct: number, binBps: number, now: number, maxAgeMs: number): HeatmapResponse {
  const stored = snap.heatmap;
  const h =
    Math.abs(rangePct - stored.rangePct) < 1e-12 && Math.abs(binBps - stored.binBps) < 1e-12
      ? stored
      : rebinHeatmap(stored, { rangePct, binBps });
  const dataAsOf = snap.dataAsOf;
  const ageMs = Math.max(0, Math.round(now - snap.asOf));
  return {
    symbol: snap.symbol,
    source: snap.source,
    version: snap.version,
    venues: snap.venues,
    asOf: iso(snap.asOf),
    asOfMs: snap.asOf,
    ageMs,
    ...(dataAsOf === undefined
      ? {}
      : { dataAsOf: iso(dataAsOf), dataAsOfMs: Math.round(dataAsOf), dataAgeMs: Math.max(0, Math.round(now - dataAsOf)) }),
    stale: ageMs > maxAgeMs,
    markPrice: h.markPrice,
    rangePct: h.rangePct,
    binBps: h.binBps,
    ladder: h.bins,
    clusters: h.clusters,
    crowding: h.crowding,
    riskScore: h.risk.score,
    riskInputs: h.risk.inputs,
    totalLongUsd: h.totalLongUsd,
    totalShortUsd: h.totalShortUsd,
    openInterestUsd: h.openInterestUsd,
    // Maps written before these existed lack them: null says "unknown", as the gate reads it.
    volatility: h.volatility ?? null,
    funding: h.funding ?? null,
    cascades: h.cascades ?? null,
    spec: snap.spec ?? null,
    confidence: snap.confidence ?? null,
    recentLiquidations: (snap.recentLiquidations ?? []).map((e) => ({
      at: iso(e.ts),
      atMs: e.ts,
      side: e.side,
      price: e.price,
      usd: e.usd,
      venue: e.venue ?? null,
    })),
  };
}

/** Weak, per version and shape: the body changes within it only by its ages. */
const etagOf = (snap: HeatmapSnapshot, rangePct: number, binBps: number) => `W/"${snap.symbol}-${snap.version}-${rangePct}-${binBps}"`;

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === etag || v === etag.slice(2); // weak comparison
  });
}

export function registerHeatmapRoutes(app: AppInstance, deps: HeatmapRoutesDeps): void {
  const known = new Set(deps.symbols);

  const requireKnown = (symbol: string) => {
    if (!known.has(symbol)) {
      throw new HttpError(404, 'UNKNOWN_SYMBOL', `Unknown symbol ${symbol}; known symbols: ${deps.symbols.join(', ')}`);
    }
  };

  /** Effective range and bin width for a request, checked against what the stored map can give. */
  const resolveShape = (snap: HeatmapSnapshot, q: { rangePct?: number | undefined; binBps?: number | undefined }) => {
    const stored = snap.heatmap;
    const rangePct = q.rangePct ?? stored.rangePct;
    const binBps = q.binBps ?? stored.binBps;
    const details: { path: string; message: string }[] = [];
    if (rangePct > stored.rangePct * (1 + 1e-9)) {
      details.push({ path: 'querystring.rangePct', message: `must be at most the stored range ${stored.rangePct}` });
    }
    if (binBps < stored.binBps * (1 - 1e-9)) {
      details.push({ path: 'querystring.binBps', message: `must be at least the stored bin width ${stored.binBps}` });
    }
    if (details.length > 0) {
      throw new HttpError(400, 'VALIDATION_FAILED', `Invalid querystring: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
    }
    return { rangePct, binBps };
  };

  /** The map at the requested shape, or 304 when the client holds this version and shape. */
  const send = (req: FastifyRequest, reply: FastifyReply, snap: HeatmapSnapshot, shape: { rangePct: number; binBps: number }) => {
    const etag = etagOf(snap, shape.rangePct, shape.binBps);
    void reply.header('etag', etag).header('cache-control', 'no-cache');
    if (etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send();
    return render(snap, shape.rangePct, shape.binBps, deps.clock(), deps.maxAgeMs);
  };

  app.get(
    '/heatmap/:symbol',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['heatmaps'],
        operationId: 'getHeatmap',
        summary: 'Liquidation heatmap of a symbol: ladder, clusters, crowding and risk score',
        description:
          'Served from memory. Re-bins on request (coarser bins, narrower range). `at` answers from history. Weak ETag per version and shape; send If-None-Match to get 304.',
        params: SymbolParamsSchema,
        querystring: HeatmapQuerySchema,
        response: {
          200: HeatmapResponseSchema,
          304: z.null().describe('Not modified'),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
          404: ErrorBodySchema,
          503: ErrorBodySchema,
        },
      },
    },
    async (req, reply) => {
      const { symbol } = req.params;
      requireKnown(symbol);
      const q = req.query;
      if (q.at !== undefined) {
        const atMs = Date.parse(q.at);
        let snap: HeatmapSnapshot | null;
        try {
          snap = await deps.store.getAt(symbol, atMs);
        } catch (err) {
          req.log.warn({ err: (err as Error).message }, 'heatmap history read failed');
          throw new HttpError(503, 'STORE_UNAVAILABLE', 'Heatmap history is unavailable right now (the store did not answer); try again shortly');
        }
        if (!snap) {
          throw new HttpError(404, 'NO_HISTORY', `No heatmap of ${symbol} at or before ${q.at} is kept (history is bounded)`);
        }
        return send(req, reply, snap, resolveShape(snap, q));
      }
      const snap = deps.cache.get(symbol);
      if (!snap) throw new HttpError(503, 'HEATMAP_NOT_READY', `No heatmap of ${symbol} yet; try again shortly`);
      return send(req, reply, snap, resolveShape(snap, q));
    },
  );

  app.get(
    '/heatmap/:symbol/history',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['heatmaps'],
        operationId: 'getHeatmapHistory',
        summary: 'Time x price picture of the heatmap: one map per time column from history, on a common price grid',
        description:
          'Columns are read from history in one store round trip; each map is re-gridded onto rows spanning the current mark ± rangePct. `current` holds the clusters, risk score, buffers, confidence and model health the gate uses now.',
        params: SymbolParamsSchema,
        querystring: HeatmapHistoryQuerySchema,
        response: { 200: HeatmapHistorySchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 503: ErrorBodySchema },
      },
    },
    async (req) => {
      const { symbol } = req.params;
      requireKnown(symbol);
      const q = req.query;
      const now = deps.clock();
      const to = q.to ? Date.parse(q.to) : now;
      const from = q.from ? Date.parse(q.from) : to - 6 * 3_600_000;
      if (!(from < to)) throw new HttpError(400, 'VALIDATION_FAILED', 'from must be before to', [{ path: 'querystring.from', message: 'must be before to' }]);
      const latest = deps.cache.get(symbol);
      const step = (to - from) / q.columns;
      const times = Array.from({ length: q.columns }, (_, i) => Math.round(from + (i + 1) * step));
      let snaps: (HeatmapSnapshot | null)[];
      try {
        snaps = await deps.store.getAtMany(symbol, times);
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'heatmap history read failed');
        throw new HttpError(503, 'STORE_UNAVAILABLE', 'Heatmap history is unavailable right now (the store did not answer); try again shortly');
      }
      const centre = latest?.heatmap.markPrice ?? [...snaps].reverse().find((s) => s !== null)?.heatmap.markPrice;
      if (centre === undefined) throw new HttpError(404, 'NO_HISTORY', `No heatmap of ${symbol} in that range is kept (history is bounded)`);
      const grid = { low: centre * (1 - q.rangePct), high: centre * (1 + q.rangePct), rows: q.rows };
      const longUsd: number[][] = [];
      const shortUsd: number[][] = [];
      let maxCellUsd = 0;
      for (const snap of snaps) {
        const g = snap ? regridLadder(snap.heatmap.bins, snap.heatmap.binBps, snap.heatmap.markPrice, grid) : { longUsd: Array<number>(q.rows).fill(0), shortUsd: Array<number>(q.rows).fill(0) };
        for (let r = 0; r < q.rows; r++) maxCellUsd = Math.max(maxCellUsd, g.longUsd[r]! + g.shortUsd[r]!);
        longUsd.push(g.longUsd);
        shortUsd.push(g.shortUsd);
      }
      const policy = deps.pretradePolicyFor(symbol);
      // Every map read carries its own recent window: their union, once each, inside [from, to].
      const liquidations = new Map<string, NonNullable<HeatmapSnapshot['recentLiquidations']>[number]>();
      for (const snap of [latest, ...snaps]) {
        for (const e of snap?.recentLiquidations ?? []) {
          if (e.ts >= from && e.ts <= to) liquidations.set(`${e.ts}|${e.venue ?? ''}|${e.side}|${e.price}|${e.usd}`, e);
        }
      }
      return {
        symbol,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        priceLow: grid.low,
        priceHigh: grid.high,
        rows: q.rows,
        columns: snaps.map((snap, i) => ({
          at: new Date(times[i]!).toISOString(),
          asOf: snap ? new Date(snap.asOf).toISOString() : null,
          markPrice: snap ? snap.heatmap.markPrice : null,
          stale: snap ? times[i]! - snap.asOf > deps.maxAgeMs : true,
        })),
        longUsd,
        shortUsd,
        maxCellUsd,
        current: latest
          ? {
              asOf: new Date(latest.asOf).toISOString(),
              markPrice: latest.heatmap.markPrice,
              stale: now - latest.asOf > deps.maxAgeMs,
              clusters: latest.heatmap.clusters,
              riskScore: latest.heatmap.risk.score,
              bufferBps: {
                buy: noTradeBufferFor(policy, latest.heatmap, 'buy', now, confidenceValueOf(latest.confidence)),
                sell: noTradeBufferFor(policy, latest.heatmap, 'sell', now, confidenceValueOf(latest.confidence)),
              },
              confidence: latest.confidence ?? null,
              confidenceFullAt: policy.confidenceFullAt,
              health: latest.health ? { ...latest.health, healthy: latest.health.status === 'healthy' } : null,
            }
          : null,
        liquidations: [...liquidations.values()]
          .sort((a, b) => a.ts - b.ts)
          .map((e) => ({ at: new Date(e.ts).toISOString(), side: e.side, price: e.price, usd: e.usd, venue: e.venue ?? null })),
      };
    },
  );

  app.get(
    '/symbols',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['heatmaps'],
        operationId: 'listSymbols',
        summary: 'Per-symbol heatmap freshness, poller leadership and venue health; the policy version of every live replica',
        response: { 200: SymbolsResponseSchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
      },
    },
    async () => ({ ...deps.symbolsStatus(), policy: await deps.policyAgreement() }),
  );

  app.get(
    '/heatmap/:symbol/view',
    {
      config: { public: true },
      schema: {
        tags: ['heatmaps'],
        operationId: 'getHeatmapView',
        summary: 'A page drawing the heatmap as time x price (no data in it: it fetches /heatmap/:symbol/history with the key you enter)',
        security: [],
        params: SymbolParamsSchema,
        produces: ['text/html'],
        response: { 200: z.string(), 404: ErrorBodySchema },
      },
    },
    async (req, reply) => {
      const { symbol } = req.params;
      if (!known.has(symbol)) throw new HttpError(404, 'UNKNOWN_SYMBOL', `Unknown symbol ${symbol}`);
      const nonce = randomBytes(16).toString('base64');
      return reply
        .type('text/html; charset=utf-8')
        .header(
          'content-security-policy',
          `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        )
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send(renderHeatmapPage({ symbol, symbols: deps.symbols, nonce }));
    },
  );
}
