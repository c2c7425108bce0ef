import { z } from 'zod';
import { PortfolioPositionSchema } from '../../domain/exposure/portfolio.js';
import { SnapshotPositionSchema } from '../../domain/exposure/types.js';

/** The most positions one snapshot or one portfolio request may list. */
export const MAX_POSITIONS = 500;

const AccountIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, ".", "_", ":" or "-" only (1-64)');

export const AccountParamsSchema = z.object({ accountId: AccountIdSchema });
export const DecisionParamsSchema = z.object({ decisionId: z.string().uuid() });

export const ReconcileRequestSchema = z
  .object({
    asOf: z.iso.datetime({ offset: true }).describe('ISO 8601 time the snapshot reflects; fills executed after it are applied on top'),
    positions: z.array(SnapshotPositionSchema).max(MAX_POSITIONS).describe('Every open position; a symbol not listed is flat'),
  })
  .strict()
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.positions.forEach((p, i) => {
      if (seen.has(p.symbol)) ctx.addIssue({ code: 'custom', path: ['positions', i, 'symbol'], message: `${p.symbol} is listed twice` });
      seen.add(p.symbol);
    });
  })
  .meta({ id: 'ReconcileRequest' });

export const ReconcileResponseSchema = z
  .object({
    accountId: z.string(),
    reconciledAt: z.string().describe('The snapshot\'s asOf, ISO 8601'),
    replayedFills: z.number().int().describe('Fills executed after asOf, applied on top of the snapshot'),
  })
  .meta({ id: 'ReconcileResponse' });

const LimitUseSchema = z.object({
  name: z.enum(['maxPositionNotionalUsd', 'maxGrossNotionalUsd', 'maxNetNotionalUsd', 'maxOpenReservations', 'maxLossUsd']),
  symbol: z.string().nullable().describe('For the per-symbol position limit'),
  limit: z.number().nullable().describe('USD after scaling (the reservation count for maxOpenReservations); null = no limit'),
  used: z.number().nullable().describe('Worst case with every open reservation filled (the loss for maxLossUsd); null when it cannot be valued'),
  usedShare: z.number().nullable(),
});

export const ExposureResponseSchema = z
  .object({
    accountId: z.string(),
    known: z.boolean().describe('False: no fill, reconciliation or reservation yet'),
    state: z.enum(['ACTIVE', 'REDUCING']).describe('REDUCING after a max-loss breach, until an admin resets it'),
    reducingSince: z.string().nullable(),
    positionsConfirmed: z
      .boolean()
      .describe('Reconciled within positionsMaxAgeMs, after the last approved opening order, and at or after the last Redis failover (redisFailoverAt)'),
    reconciledAt: z.string().nullable(),
    redisFailoverAt: z
      .string()
      .nullable()
      .describe('When this service last saw Redis fail over or restart (its run_id changed); positions reconciled before it count as unconfirmed. Null: none seen'),
    scale: z.number().describe('Factor applied to the USD limits now (time of day, portfolio multiplier, when the policy says so)'),
    positions: z.array(
      z.object({
        symbol: z.string(),
        quantity: z.number().describe('Signed base units'),
        entryPrice: z.number(),
        markPrice: z.number().nullable(),
        notionalUsd: z.number().nullable(),
        unrealizedPnlUsd: z.number().nullable(),
      }),
    ),
    reservations: z.array(
      z.object({
        decisionId: z.string(),
        symbol: z.string(),
        side: z.enum(['buy', 'sell']),
        reduceOnly: z.boolean(),
        quantity: z.number(),
        notionalUsd: z.number(),
        expiresAt: z.string(),
      }),
    ),
    realizedPnlUsd: z.number().describe('Within maxLossWindowMs'),
    limits: z.array(LimitUseSchema),
    unpriced: z.array(z.string()).describe('Symbols held or reserved with no mark: their exposure cannot be valued and risk-adding orders are rejected'),
  })
  .meta({ id: 'AccountExposure' });

export const ReleaseRequestSchema = z
  .object({ accountId: AccountIdSchema.optional().describe("Default: the key's default account") })
  .strict()
  .nullish()
  .describe('Optional: a release may carry no body');

export const ReleaseResponseSchema = z
  .object({
    decisionId: z.string(),
    accountId: z.string(),
    released: z
      .boolean()
      .nullable()
      .describe(
        'False: nothing was reserved under it any more (released, filled or expired); releasing again is harmless. ' +
          "Null: Redis did not take the release at once; it is in this service's local journal (fsynced) and is applied when replayed (journaled: true)",
      ),
    journaled: z.boolean().describe('True: the release waits in the local journal to be replayed into Redis; until then the reservation still counts (the safe side)'),
  })
  .meta({ id: 'ReleaseResponse' });

export const ResetReducingResponseSchema = z.object({ accountId: z.string(), wasReducing: z.boolean() }).meta({ id: 'ResetReducingResponse' });

export const PortfolioRequestSchema = z
  .object({ positions: z.array(PortfolioPositionSchema).min(1).max(MAX_POSITIONS) })
  .strict()
  .meta({ id: 'PortfolioRequest' });

const ZoneSchema = z.object({ priceLow: z.number(), priceHigh: z.number(), peakPrice: z.number(), distanceBps: z.number(), notionalUsd: z.number() });

export const PortfolioResponseSchema = z
  .object({
    positions: z.array(
      z.object({
        symbol: z.string(),
        side: z.enum(['long', 'short']),
        notional: z.number(),
        markPrice: z.number(),
        dangerZone: ZoneSchema.nullable().describe('Nearest major cluster on the side that runs against the position'),
        liquidationPrice: z.number(),
        liquidationInsideCascade: z.boolean().describe("The liquidation price is nearer the mark than the zone's far edge"),
        riskScore: z.number().describe('0..100'),
      }),
    ),
    systemicScore: z.number().describe('0..100'),
    exposureMultiplier: z.number().describe('0..1: the share of exposure to keep'),
    diversificationRatio: z.number(),
    correlations: z.array(z.object({ a: z.string(), b: z.string(), rho: z.number(), n: z.number().int(), assumed: z.boolean() })),
    correlationWindow: z.object({ barMs: z.number().int(), returns: z.number().int(), minReturns: z.number().int(), measuredAt: z.string().nullable() }),
  })
  .meta({ id: 'PortfolioRisk' });

export const RiskSummarySchema = z
  .object({
    symbols: z.array(
      z.object({
        symbol: z.string(),
        available: z.boolean().describe('False: no heatmap yet'),
        riskScore: z.number().nullable(),
        crowding: z.object({ side: z.enum(['long', 'short', 'neutral']), strength: z.number() }).nullable(),
        nearestMajorCluster: ZoneSchema.extend({ side: z.enum(['long', 'short']) }).nullable(),
        heatmapAsOf: z.string().nullable(),
      }),
    ),
    accounts: z.array(z.object({ accountId: z.string(), state: z.enum(['ACTIVE', 'REDUCING']), limits: z.array(LimitUseSchema) })),
  })
  .meta({ id: 'RiskSummary' });
