import type { Heatmap } from '../heatmap/types.js';
import type { OrderBook } from '../market-data.js';
import type { MaintenanceMargin } from '../margin.js';
import { confidenceOf, ModelHealthParamsSchema, type Confidence } from '../model-health/index.js';
import { evaluatePretrade, type PretradePolicy } from '../pretrade/index.js';
import type { BookModel, Gate } from './backtest.js';

/**
 * What the gate sees after bar i closed; null when nothing is known (the order is then judged
 * with no market: rejected). `confidence` when the caller knows one; otherwise the map gets
 * what a live map from one venue with no scored liquidations would carry (see below).
 */
export type MarketAt = (index: number) => { heatmap: Heatmap; orderBook: OrderBook | null; now: number; confidence?: Confidence } | null;

const UNSCORED = { status: 'unknown', sweptMass: null, priceLevel: null, events: 0, periods: 0, windowMs: 0 } as const;

/**
 * A backtest has no live health: its maps are judged as a live map on one venue whose model
 * has not been scored yet (health unknown), so the gate applies the same confidence factor
 * it would in production without a liquidation feed.
 */
export function unscoredConfidence(heatmap: Heatmap): Confidence {
  return confidenceOf({ heatmap, venuesFresh: 1, venuesConfigured: 1, health: UNSCORED, params: ModelHealthParamsSchema.parse({}) });
}

/**
 * The backtest's gate: each opening order goes through the real `evaluatePretrade` as a
 * market order for `notionalUsd` at `leverage`, with both trading states ACTIVE. REJECT
 * approves nothing; APPROVE and RESIZE approve their approved notional.
 */
export function pretradeGate(opts: {
  symbol: string;
  leverage: number;
  policy: PretradePolicy;
  maintenanceMargin: MaintenanceMargin;
  maxHeatmapAgeMs: number;
  marketAt: MarketAt;
}): Gate {
  return (index, side, notionalUsd) => {
    const m = opts.marketAt(index);
    const v = evaluatePretrade({
      order: { symbol: opts.symbol, side: side === 'long' ? 'buy' : 'sell', orderType: 'market', notional: notionalUsd, leverage: opts.leverage, reduceOnly: false },
      knownSymbol: true,
      market:
        m === null
          ? null
          : { heatmap: m.heatmap, version: 1, asOf: m.heatmap.asOf, orderBook: m.orderBook, source: 'replay', confidence: m.confidence ?? unscoredConfidence(m.heatmap) },
      tradingState: { global: 'ACTIVE', symbol: 'ACTIVE' },
      policy: opts.policy,
      maintenanceMargin: opts.maintenanceMargin,
      maxHeatmapAgeMs: opts.maxHeatmapAgeMs,
      now: m?.now ?? 0,
    });
    return { approvedNotionalUsd: v.decision === 'REJECT' ? 0 : v.approvedNotional, reasons: v.reasons.map((r) => r.code) };
  };
}

/** The book model as an order book around `mid`: one level per bps from the half spread out, `levels` a side. */
export function linearBook(book: BookModel, mid: number, ts: number, levels = 300): OrderBook {
  const size = book.depthUsdPerBps / mid;
  const bids = [];
  const asks = [];
  for (let i = 0; i < levels; i++) {
    bids.push({ price: mid * (1 - (book.halfSpreadBps + i) / 1e4), size });
    asks.push({ price: mid * (1 + (book.halfSpreadBps + i) / 1e4), size });
  }
  return { ts, bids, asks };
}
