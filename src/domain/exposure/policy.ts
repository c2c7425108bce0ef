import { z } from 'zod';

/**
 * Exposure policy: account-level limits the gate enforces across orders (positions, open
 * reservations, max loss). `ExposurePolicySchema.parse({})` gives the defaults; the policy
 * file's `exposure` section may override any subset, and `accounts.<id>` overrides the
 * limits for one account. Documented in docs/exposure.md.
 */

const usd = () => z.number().finite().positive().max(1e15);

/** An account's override of some limits (no defaults: what it does not name comes from `limits`). */
const LimitFields = {
  maxPositionNotionalUsd: usd(),
  maxPositionNotionalUsdBySymbol: z.record(z.string().regex(/^[A-Z0-9]{2,20}$/), usd()),
  maxGrossNotionalUsd: usd(),
  maxNetNotionalUsd: usd(),
  maxOpenReservations: z.number().int().min(1).max(100_000),
  maxLossUsd: usd().nullable(),
  maxApprovedOrders: z.number().int().min(1).max(1_000_000),
  maxApprovedNotionalUsd: usd().nullable(),
  approvalWindowMs: z.number().int().min(1_000).max(86_400_000),
};
export const ExposureLimitsOverrideSchema = z.object(LimitFields).partial().strict();

/** The limits one account trades under (every one in USD except the reservation count). */
export const ExposureLimitsSchema = z
  .object({
    /** Largest position notional per symbol (worst case: every open reservation fills). */
    maxPositionNotionalUsd: LimitFields.maxPositionNotionalUsd.default(2_000_000),
    /** Per-symbol overrides of maxPositionNotionalUsd. */
    maxPositionNotionalUsdBySymbol: LimitFields.maxPositionNotionalUsdBySymbol.default({}),
    /** Largest sum over symbols of |position notional|, worst case. */
    maxGrossNotionalUsd: LimitFields.maxGrossNotionalUsd.default(5_000_000),
    /** Largest |sum over symbols of signed position notional|, worst case. */
    maxNetNotionalUsd: LimitFields.maxNetNotionalUsd.default(3_000_000),
    /** Most reservations open at once (approved orders not yet filled, released or expired). */
    maxOpenReservations: LimitFields.maxOpenReservations.default(200),
    /** Realized (over maxLossWindowMs) plus unrealized loss at the mark that switches the account to REDUCING; null = none. */
    maxLossUsd: LimitFields.maxLossUsd.default(null),
    /** Trading limit: most orders approved (risk-adding or reduce-only) in any approvalWindowMs; risk-adding orders beyond it are rejected. */
    maxApprovedOrders: LimitFields.maxApprovedOrders.default(1_200),
    /** Trading limit: most notional approved (USD, at the order's valuation price) in any approvalWindowMs; null = none. */
    maxApprovedNotionalUsd: LimitFields.maxApprovedNotionalUsd.default(50_000_000),
    /** The window the trading limits count over (sliding, in buckets of a tenth of it). */
    approvalWindowMs: LimitFields.approvalWindowMs.default(60_000),
  })
  .strict();
export type ExposureLimits = z.infer<typeof ExposureLimitsSchema>;

export const ExposurePolicySchema = z
  .object({
    /** Default limits of every account. */
    limits: ExposureLimitsSchema.default(ExposureLimitsSchema.parse({})),
    /** Per-account overrides, merged over `limits`. */
    accounts: z.record(z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/), ExposureLimitsOverrideSchema).default({}),
    /** Scale the USD limits by the time-of-day liquidity multiplier (the seed's "reduce exposure in thin windows"). */
    scaleWithTimeOfDay: z.boolean().default(false),
    /** Scale the USD limits by the portfolio exposure multiplier of POST /risk/portfolio (off by default). */
    scaleWithPortfolioMultiplier: z.boolean().default(false),
    /** Positions not reconciled within this (ms) count as unconfirmed. */
    positionsMaxAgeMs: z.number().int().min(1_000).max(30 * 86_400_000).default(300_000),
    /** A reduce-only order with no known position is rejected unless positions are confirmed (instead of approved with a warning). */
    requireConfirmedPositions: z.boolean().default(false),
    /** How long a reservation lasts without a fill or release; covers the longest an order rests. */
    reservationTtlMs: z.number().int().min(1_000).max(30 * 86_400_000).default(86_400_000),
    /** The window realized PnL is summed over for the max-loss limit. */
    maxLossWindowMs: z.number().int().min(60_000).max(366 * 86_400_000).default(86_400_000),
    /** Fills are kept this long (replayed over a reconciliation whose `asOf` precedes them). */
    fillRetentionMs: z.number().int().min(3_600_000).max(366 * 86_400_000).default(7 * 86_400_000),
    /** Correlation window: this many 5-minute log returns (144 = 12 hours). */
    correlationReturns: z.number().int().min(10).max(2_016).default(144),
    /** With fewer returns than this, two symbols count as fully correlated (1). */
    correlationMinReturns: z.number().int().min(3).max(2_016).default(36),
  })
  .strict();
export type ExposurePolicy = z.infer<typeof ExposurePolicySchema>;

/** The limits of one account: the defaults with its overrides. */
export function limitsFor(policy: ExposurePolicy, accountId: string): ExposureLimits {
  const o = policy.accounts[accountId];
  return o ? { ...policy.limits, ...o } : policy.limits;
}

/** The per-symbol position limit of an account. */
export function positionLimitFor(limits: ExposureLimits, symbol: string): number {
  return limits.maxPositionNotionalUsdBySymbol[symbol] ?? limits.maxPositionNotionalUsd;
}
