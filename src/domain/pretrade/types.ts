import { z } from 'zod';
import type { OrderBook, MarketSpec } from '../market-data.js';
import type { Heatmap } from '../heatmap/types.js';
import { ConfidenceSchema, type Confidence } from '../model-health/types.js';

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';
export type DecisionKind = PretradeVerdict['decision'];

/** A proposed order, already validated for shape (exactly one of quantity / notional, limitPrice for limits). */
export interface PretradeOrder {
  symbol: string;
  side: OrderSide;
  quantity?: number | undefined;
  notional?: number | undefined;
  orderType: OrderType;
  limitPrice?: number | undefined;
  leverage?: number | undefined;
  reduceOnly: boolean;
  clientOrderId?: string | undefined;
  accountId?: string | undefined;
  strategyId?: string | undefined;
}

/** The closed set of stable reason codes. Never rename one: execution engines key on them. */
export const REASON_CODES = [
  'UNKNOWN_SYMBOL',
  'HEATMAP_STALE',
  'TRADING_REDUCING',
  'TRADING_HALTED',
  'NO_TRADE_BUFFER',
  'SLIPPAGE_LIMIT',
  'CLUSTER_PROXIMITY',
  'NO_ORDER_BOOK',
  'LIMIT_PRICE_IN_CLUSTER',
  'PRICE_COLLAR',
  'TIME_OF_DAY',
  'CROWDED_SIDE',
  'OWN_LIQUIDATION_IN_CLUSTER',
  'MAX_NOTIONAL',
  'BELOW_MIN_SIZE',
  'REDUCE_ONLY_STALE_DATA',
  /** Defence in depth behind the route schema: a malformed order reaching the domain is rejected, never evaluated. */
  'INVALID_ORDER',
  /** Leverage above the symbol's maximum (policy, else the venues' market spec), or above the tier table's cap at the order's notional. */
  'LEVERAGE_ABOVE_MAX',
  /** Leverage at or above 1 / maintenance margin rate: the position would be liquidatable when it opens. */
  'LIQUIDATABLE_AT_ENTRY',
  /** No leverage given and the policy requires it for risk-adding orders. */
  'LEVERAGE_REQUIRED',
  /** Warning: no leverage given; the policy's default leverage was assumed. */
  'LEVERAGE_ASSUMED',
  /** Warning: the order book's mid is too far from the heatmap mark to be used. */
  'BOOK_MARK_DIVERGENCE',
  /** Warning: a reduce-only approval rests on the position, which the gate cannot see. */
  'REDUCE_ONLY_UNVERIFIED',
  /** Above the largest order quantity (policy, else the venues' market spec). */
  'MAX_QUANTITY',
  /** The requested quantity is not a multiple of the quantity step: rounded down. */
  'QUANTITY_STEP',
  /** High realized volatility tightened the buffer or the size cap. */
  'VOLATILITY',
  /** Warning: realized volatility unknown; the conservative factor was applied. */
  'VOLATILITY_UNKNOWN',
  /** An extreme-funding regime tightened the buffer or the size cap on the side a cascade would run. */
  'FUNDING_EXTREME',
  /** Warning: the funding regime is unknown; no funding tightening was applied. */
  'FUNDING_UNKNOWN',
  /** Low (or unknown) heatmap confidence widened the buffer or tightened the size cap. */
  'LOW_CONFIDENCE',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/**
 * The verdict's shapes are zod schemas and their types are inferred from them: the
 * service's decision schema (src/modules/pretrade/schemas.ts) is built from these, so a
 * field exists once. The descriptions reach the OpenAPI document through it.
 */
export const ReasonSchema = z.object({
  code: z.enum(REASON_CODES),
  message: z.string(),
  /** The configured limit that triggered it (number, or a label such as a state name). */
  limit: z.union([z.number(), z.string()]).nullable().describe('The configured limit that triggered it'),
  /** What was observed. */
  observed: z.union([z.number(), z.string()]).nullable().describe('What was observed'),
});
export type Reason = z.infer<typeof ReasonSchema>;

export const NearestClusterSchema = z.object({
  side: z.enum(['long', 'short']).describe('Whose positions would be liquidated there'),
  peakPrice: z.number(),
  distanceBps: z.number(),
  notionalUsd: z.number(),
  major: z.boolean(),
});
export type NearestCluster = z.infer<typeof NearestClusterSchema>;

/** What the market looks like to the gate for one symbol (from the in-memory snapshot). */
export interface MarketView {
  heatmap: Heatmap;
  /** Heatmap version in the store (for audit). */
  version: number;
  /** Epoch ms of the heatmap data. */
  asOf: number;
  orderBook: OrderBook | null;
  /** Which market source produced it: `sim`, `ccxt` or `replay`. */
  source: string;
  /** The venues' trading rules for the symbol, when the source publishes them (policy overrides). */
  spec?: MarketSpec | null | undefined;
  /** How far the map can be trusted (the snapshot's); absent or null: unknown, treated as the lowest. */
  confidence?: Confidence | null | undefined;
}

/** The domain's verdict, before the service adds ids and timestamps. */
export const PretradeVerdictSchema = z.object({
  decision: z.enum(['APPROVE', 'RESIZE', 'REJECT']),
  requestedQuantity: z.number(),
  approvedQuantity: z.number().describe('Equal for APPROVE, strictly smaller and positive for RESIZE, 0 for REJECT'),
  requestedNotional: z.number(),
  approvedNotional: z.number(),
  reasons: z.array(ReasonSchema).describe('Why the order was resized or rejected'),
  warnings: z.array(ReasonSchema).describe('Non-binding'),
  riskScore: z.number().min(0).max(100),
  nearestCluster: NearestClusterSchema.nullable(),
  expectedSlippageBps: z.number().nullable(),
  /**
   * Highest leverage (2 decimals, rounded down) no leverage rule rejects for this order:
   * below 1 / maintenance margin, at most the maximum leverage, liquidation clear of every
   * major zone of its side. Null for reduce-only orders and when the market data is unusable.
   */
  maxSafeLeverage: z
    .number()
    .nullable()
    .describe('Highest leverage no leverage rule rejects for this order (liquidation clear of the major zones); null for reduce-only or unusable data'),
  timeOfDayMultiplier: z.number(),
  /** Epoch ms of the heatmap decided on (the service answers it as ISO 8601). */
  heatmapAsOf: z.number().nullable(),
  heatmapAgeMs: z.number().nullable(),
  source: z.string().nullable().describe('Market source of the heatmap: sim, ccxt or replay'),
  confidence: ConfidenceSchema.nullable().describe(
    'Confidence of the heatmap decided on (0..1 with its parts); low confidence widened the buffer and tightened the size caps. Null when the map carries none (treated as 0) or there is no map',
  ),
  /**
   * Set when a trading limit (ACCOUNT_ORDER_RATE_LIMIT, ACCOUNT_NOTIONAL_RATE_LIMIT)
   * rejected or resized the order: how long until the same order would pass that limit,
   * if nothing else is approved meanwhile. Absent otherwise.
   */
  retryAfterMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Present when a trading limit (ACCOUNT_ORDER_RATE_LIMIT, ACCOUNT_NOTIONAL_RATE_LIMIT) rejected or resized the order: ms until the same order would pass it, if nothing else is approved meanwhile'),
});
export type PretradeVerdict = z.infer<typeof PretradeVerdictSchema>;
