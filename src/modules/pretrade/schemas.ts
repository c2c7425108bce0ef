import { z } from 'zod';
import { ErrorBodySchema } from '../../http/errors.js';
import { HeatmapParamsSchema } from '../../domain/heatmap/params.js';
import { PretradePolicySchema, REASON_CODES } from '../../domain/pretrade/index.js';

/**
 * One zod schema per route: it validates the request, types the handler and writes the
 * OpenAPI document (named components via `.meta({ id })`).
 */

const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;
/** Ids a client sends (clientOrderId, accountId, strategyId): safe in logs and Redis keys. */
const ClientIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, ".", "_", ":" or "-" only (1-64)');
const positiveNumber = () => z.number().finite().positive();

export const SymbolSchema = z.string().regex(SYMBOL_RE, 'an upper-case symbol id such as BTCUSDT');

export const PretradeRequestSchema = z
  .object({
    symbol: SymbolSchema.describe('Service symbol id, e.g. BTCUSDT'),
    side: z.enum(['buy', 'sell']),
    quantity: positiveNumber().optional().describe('Base units. Exactly one of quantity or notional.'),
    notional: positiveNumber().optional().describe('Quote currency (USD). Exactly one of quantity or notional.'),
    orderType: z.enum(['market', 'limit']),
    limitPrice: positiveNumber().optional().describe('Required for limit orders, refused for market orders'),
    leverage: z.number().finite().min(1).max(1_000).optional().describe('Position leverage, for the own-liquidation check'),
    reduceOnly: z.boolean().default(false),
    clientOrderId: ClientIdSchema.optional().describe(
      'Idempotency key (scoped by the API key and accountId): the same id with the same body returns the stored decision; with another body, 409',
    ),
    accountId: ClientIdSchema.optional(),
    strategyId: ClientIdSchema.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.quantity === undefined && o.notional === undefined) {
      ctx.addIssue({ code: 'custom', path: ['quantity'], message: 'give exactly one of quantity or notional' });
    }
    if (o.quantity !== undefined && o.notional !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['notional'], message: 'give exactly one of quantity or notional, not both' });
    }
    if (o.orderType === 'limit' && o.limitPrice === undefined) {
      ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: 'required for limit orders' });
    }
    if (o.orderType === 'market' && o.limitPrice !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: 'only allowed for limit orders' });
    }
  })
  .meta({ id: 'PretradeRequest' });
export type PretradeRequest = z.infer<typeof PretradeRequestSchema>;

/** Codes the service adds next to the domain's (warnings only; never change a decision). */
export const SERVICE_WARNING_CODES = ['IDEMPOTENCY_UNAVAILABLE'] as const;

export const ReasonSchema = z
  .object({
    code: z.enum([...REASON_CODES, ...SERVICE_WARNING_CODES]).describe('Stable code: never renamed'),
    message: z.string(),
    limit: z.union([z.number(), z.string()]).nullable().describe('The configured limit that triggered it'),
    observed: z.union([z.number(), z.string()]).nullable().describe('What was observed'),
  })
  .meta({ id: 'Reason' });

export const NearestClusterSchema = z
  .object({
    side: z.enum(['long', 'short']).describe('Whose positions would be liquidated there'),
    peakPrice: z.number(),
    distanceBps: z.number(),
    notionalUsd: z.number(),
    major: z.boolean(),
  })
  .meta({ id: 'NearestCluster' });

export const PretradeDecisionSchema = z
  .object({
    decisionId: z.string(),
    evaluatedAt: z.string().describe('ISO 8601'),
    symbol: z.string(),
    side: z.enum(['buy', 'sell']),
    clientOrderId: z.string().nullable(),
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
    maxSafeLeverage: z
      .number()
      .nullable()
      .describe('Highest leverage no leverage rule rejects for this order (liquidation clear of the major zones); null for reduce-only or unusable data'),
    timeOfDayMultiplier: z.number(),
    heatmapAsOf: z.number().nullable().describe('Epoch ms of the heatmap data'),
    heatmapAgeMs: z.number().nullable(),
    heatmapVersion: z.number().nullable(),
    source: z.string().nullable().describe('Market source of the heatmap: sim, ccxt or replay'),
    policyVersion: z.string().describe('Content hash of the effective policy (GET /policy)'),
  })
  .meta({ id: 'PretradeDecision' });
export type PretradeDecision = z.infer<typeof PretradeDecisionSchema>;

export const BatchRequestSchema = (batchMax: number) =>
  z
    .object({ orders: z.array(PretradeRequestSchema).min(1).max(batchMax) })
    .strict()
    .superRefine((b, ctx) => {
      // Two orders of one batch with one idempotency key cannot both be new: refuse up front.
      const seen = new Set<string>();
      b.orders.forEach((o, i) => {
        if (o.clientOrderId === undefined) return;
        const k = idempotencyId('', o.accountId, o.clientOrderId); // one batch has one caller
        if (seen.has(k)) {
          ctx.addIssue({ code: 'custom', path: ['orders', i, 'clientOrderId'], message: 'repeats an earlier order of this batch' });
        }
        seen.add(k);
      });
    })
    .meta({ id: 'PretradeBatchRequest' });

export const BatchResponseSchema = z
  .object({ results: z.array(PretradeDecisionSchema).describe('One decision per order, in order') })
  .meta({ id: 'PretradeBatchResponse' });

/**
 * The idempotency key of an order: clientOrderId scoped by the caller's API key id and by
 * accountId, so one key can neither replay nor learn of (409 naming) another key's
 * decision. "/" never occurs in client ids; the key id is URI-encoded so it cannot either.
 */
export function idempotencyId(keyId: string, accountId: string | undefined, clientOrderId: string): string {
  return `${encodeURIComponent(keyId)}/${accountId ?? ''}/${clientOrderId}`;
}

export const AuditRecordSchema = z
  .object({
    decisionId: z.string(),
    evaluatedAt: z.string(),
    keyId: z.string().describe('Id (never the key) of the API key that asked'),
    instanceId: z.string(),
    request: PretradeRequestSchema.describe('The request as validated (defaults applied)'),
    decision: PretradeDecisionSchema,
    heatmapVersion: z.number().nullable(),
    policyVersion: z.string(),
  })
  .meta({ id: 'DecisionRecord' });
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export const DecisionParamsSchema = z.object({ decisionId: z.uuid() });

const TradingStateEnum = z.enum(['ACTIVE', 'REDUCING', 'HALTED']);
export const TradingStateEntrySchema = z
  .object({
    state: TradingStateEnum,
    reason: z.string().nullable(),
    updatedBy: z.string().nullable().describe('Key id of the admin who set it; null if never set'),
    updatedAt: z.string().nullable().describe('ISO 8601; null if never set'),
  })
  .meta({ id: 'TradingStateEntry' });
export type TradingStateView = z.infer<typeof TradingStateEntrySchema>;

export const TradingStateResponseSchema = z
  .object({
    global: TradingStateEntrySchema,
    symbols: z.record(z.string(), TradingStateEntrySchema).describe('Every configured symbol'),
    loaded: z.boolean().describe('False until the state was read from the store: until then every scope counts as HALTED'),
  })
  .meta({ id: 'TradingStateView' });
export type TradingStateResponse = z.infer<typeof TradingStateResponseSchema>;

export const TradingStatePutSchema = z
  .object({
    symbol: SymbolSchema.optional().describe('A configured symbol; omit for the global state'),
    state: TradingStateEnum.describe('ACTIVE; REDUCING: only reduce-only orders pass; HALTED: every order is rejected, reduce-only included'),
    reason: z.string().trim().min(1).max(500),
  })
  .strict()
  .meta({ id: 'TradingStateChange' });

const SymbolPolicySchema = z.object({ pretrade: PretradePolicySchema, model: HeatmapParamsSchema }).meta({ id: 'SymbolPolicy' });
export const PolicyResponseSchema = z
  .object({
    version: z.string().describe('Content hash: the policyVersion every decision carries'),
    defaults: SymbolPolicySchema,
    symbols: z.record(z.string(), SymbolPolicySchema).describe('Effective policy per configured symbol'),
    service: z.object({
      heatmapMaxAgeMs: z.number().describe('HEATMAP_MAX_AGE_MS (a symbol policy may tighten it)'),
      batchMax: z.number(),
      idempotencyTtlMs: z.number(),
    }),
  })
  .meta({ id: 'Policy' });

export const errorResponses = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
} as const;
