import { z } from 'zod';
import { ErrorBodySchema } from '../../http/errors.js';
import { HeatmapParamsSchema } from '../../domain/heatmap/params.js';
import { MaintenanceMarginSchema } from '../../domain/margin.js';
import { EXPOSURE_CODES } from '../../domain/exposure/limits.js';
import { ExposurePolicySchema } from '../../domain/exposure/policy.js';
import {
  NearestClusterSchema as VerdictNearestClusterSchema,
  PretradePolicySchema,
  PretradeVerdictSchema,
  REASON_CODES,
  ReasonSchema as VerdictReasonSchema,
} from '../../domain/pretrade/index.js';

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
/**
 * Bounds of every numeric input (README, "The pre-trade gate"): far beyond any real order,
 * and tight enough that no product or quotient the gate forms (quantity x price, a cap
 * over the request) can overflow to Infinity or underflow to 0, so no 200 carries null.
 */
export const ORDER_BOUNDS = {
  quantity: { min: 1e-9, max: 1e12 },
  notional: { min: 1e-6, max: 1e12 },
  limitPrice: { min: 1e-9, max: 1e9 },
  leverage: { min: 1, max: 1_000 },
} as const;
const bounded = ({ min, max }: { min: number; max: number }) =>
  z
    .number()
    .finite()
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const SymbolSchema = z.string().regex(SYMBOL_RE, 'an upper-case symbol id such as BTCUSDT');

export const PretradeRequestSchema = z
  .object({
    symbol: SymbolSchema.describe('Service symbol id, e.g. BTCUSDT'),
    side: z.enum(['buy', 'sell']),
    quantity: bounded(ORDER_BOUNDS.quantity).optional().describe('Base units (1e-9 to 1e12). Exactly one of quantity or notional.'),
    notional: bounded(ORDER_BOUNDS.notional).optional().describe('Quote currency, USD (1e-6 to 1e12). Exactly one of quantity or notional.'),
    orderType: z.enum(['market', 'limit']),
    limitPrice: bounded(ORDER_BOUNDS.limitPrice).optional().describe('1e-9 to 1e9. Required for limit orders, refused for market orders'),
    leverage: bounded(ORDER_BOUNDS.leverage).optional().describe('Position leverage (1 to 1000), for the own-liquidation check'),
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

/**
 * The exposure check's own code, next to the exposure domain's (docs/exposure.md): the
 * exposure store did not confirm the check-and-reserve (error or timeout).
 */
export const EXPOSURE_UNAVAILABLE = 'EXPOSURE_UNAVAILABLE';

/** A reason as answered: the domain's, the exposure check's and the service's warning codes. */
export const ReasonSchema = VerdictReasonSchema.extend({
  code: z.enum([...REASON_CODES, ...EXPOSURE_CODES, EXPOSURE_UNAVAILABLE, ...SERVICE_WARNING_CODES]).describe('Stable code: never renamed'),
}).meta({ id: 'Reason' });

export const NearestClusterSchema = VerdictNearestClusterSchema.meta({ id: 'NearestCluster' });

// The verdict's fields, in the decision at the place the response has always had them.
// retryAfterMs (present only when a trading limit answered) comes last, after the versions.
const { source, retryAfterMs, ...verdict } = PretradeVerdictSchema.shape;

/** The domain's verdict plus what the service adds: ids, ISO timestamps, versions. */
export const PretradeDecisionSchema = z
  .object({
    decisionId: z.string(),
    evaluatedAt: z.string().describe('ISO 8601, like every timestamp in the response'),
    validUntil: z
      .string()
      .describe(
        'ISO 8601: evaluatedAt + DECISION_VALID_MS. Send the order before then; an idempotent replay of an approval after it (or after the trading state changed) is a 409 DECISION_EXPIRED',
      ),
    symbol: z.string(),
    side: z.enum(['buy', 'sell']),
    clientOrderId: z.string().nullable(),
    ...verdict,
    reasons: z.array(ReasonSchema).describe('Why the order was resized or rejected'),
    warnings: z.array(ReasonSchema).describe('Non-binding'),
    nearestCluster: NearestClusterSchema.nullable(),
    heatmapAsOf: z.string().nullable().describe('ISO 8601: when the market behind the heatmap was observed'),
    heatmapVersion: z.number().nullable(),
    source,
    policyVersion: z.string().describe('Content hash of the effective policy (GET /policy)'),
    retryAfterMs,
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

export const BatchOrderErrorSchema = z
  .object({
    clientOrderId: z.string().nullable(),
    error: z
      .enum(['IDEMPOTENCY_CONFLICT', 'DECISION_EXPIRED'])
      .describe('Why this order got no decision: its clientOrderId was used with another body, or its stored approval no longer stands'),
    message: z.string(),
    decisionId: z.string().describe('The decision stored for this clientOrderId'),
  })
  .meta({ id: 'PretradeBatchOrderError' });

export const BatchResponseSchema = z
  .object({
    results: z
      .array(z.union([PretradeDecisionSchema, BatchOrderErrorSchema]))
      .describe('One answer per order, in order: a decision, or (with an `error` field) why that order got none'),
  })
  .meta({ id: 'PretradeBatchResponse' });
export type BatchResponse = z.infer<typeof BatchResponseSchema>;

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
    request: PretradeRequestSchema.describe('The request as validated (defaults applied), in the shape of the version that recorded it'),
    decision: PretradeDecisionSchema.describe('The decision as answered, in the shape of the version that recorded it'),
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
    initialised: z
      .boolean()
      .describe(
        'False when the store lacks the marker a global PUT writes (its keys vanished, or it is new): every scope counts as HALTED until an admin sets the global state',
      ),
    haltFile: z
      .object({
        path: z.string(),
        detail: z.string().nullable().describe('What the break-glass file sets now; null when it is absent'),
      })
      .nullable()
      .describe('The break-glass halt file (HALT_FILE), or null when none is configured'),
    effective: z
      .record(z.string(), TradingStateEnum)
      .describe('What the gate applies per symbol now: the strictest of global, symbol and halt file; HALTED when not loaded, stale or not initialised'),
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

/** How long a PUT waits for the live replicas by default (`?wait=` overrides it). */
export const TRADING_STATE_PUT_WAIT_MS = 2_000;

export const TradingStatePutQuerySchema = z.object({
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(TRADING_STATE_PUT_WAIT_MS)
    .describe('Milliseconds to wait for every live replica to apply the change before answering (0: answer at once with who has so far)'),
});

export const TradingStatePutResponseSchema = TradingStateResponseSchema.extend({
  applied: z.number().int().describe('Live replicas (this one included) that apply this change, or a later one, when the answer was sent'),
  replicas: z.number().int().describe('Live replicas: those that acknowledged the trading state recently'),
  pending: z.array(z.string()).describe('Live replicas that had not applied the change by the end of the wait (instance id#nonce)'),
  complete: z
    .boolean()
    .describe('True when every live replica applied the change; false after the wait ran out, or when the acknowledgements could not be read (then 0 of 0)'),
}).meta({ id: 'TradingStateChanged' });

const SymbolPolicySchema = z
  .object({ pretrade: PretradePolicySchema, model: HeatmapParamsSchema, maintenanceMargin: MaintenanceMarginSchema })
  .meta({ id: 'SymbolPolicy' });
export const PolicyResponseSchema = z
  .object({
    version: z.string().describe('Content hash: the policyVersion every decision carries'),
    defaults: SymbolPolicySchema,
    symbols: z.record(z.string(), SymbolPolicySchema).describe('Effective policy per configured symbol'),
    exposure: ExposurePolicySchema.describe('Account exposure policy (limits, trading limits, scaling switches, confirmed-position rule); part of the version'),
    service: z.object({
      heatmapMaxAgeMs: z.number().describe('HEATMAP_MAX_AGE_MS (a symbol policy may tighten it)'),
      batchMax: z.number(),
      idempotencyTtlMs: z.number(),
      decisionValidMs: z.number().describe('DECISION_VALID_MS: validUntil = evaluatedAt + this'),
    }),
  })
  .meta({ id: 'Policy' });

export const errorResponses = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
} as const;
