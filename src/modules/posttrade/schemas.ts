import { z } from 'zod';
import { FillAnalysisSchema } from '../../domain/posttrade/types.js';

const ClientIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, ".", "_", ":" or "-" only (1-64)');

/** Sizes and prices a fill may carry: finite, positive and below absurd magnitudes. */
const bounded = (max: number) => z.number().finite().positive().max(max);

export const FillRequestSchema = z
  .object({
    fillId: ClientIdSchema.describe('The engine\'s id of this execution: a fill is recorded once per fillId (a resend with another body is a 409)'),
    decisionId: z.string().uuid().optional().describe('The pre-trade decision that allowed the order, when the engine has it'),
    accountId: ClientIdSchema.optional().describe("Defaults to the API key's default account; one the key does not act for is a 403"),
    symbol: z.string().regex(/^[A-Z0-9]{2,20}$/, 'an upper-case symbol id such as BTCUSDT'),
    side: z.enum(['buy', 'sell']),
    quantity: bounded(1e9).describe('Base units'),
    price: bounded(1e9),
    executedAt: z.iso.datetime({ offset: true }).describe('ISO 8601 time of the execution'),
    fee: z.number().finite().min(-1e9).max(1e9).optional().describe('Quote currency; negative for a rebate'),
    reducesPosition: z.boolean().optional().describe('True for an exit. Without it, the decision\'s reduceOnly decides'),
  })
  .strict()
  .meta({ id: 'FillRequest' });
export type FillRequest = z.infer<typeof FillRequestSchema>;

export const FillAcceptedSchema = z
  .object({
    fillId: z.string(),
    status: z.enum(['accepted', 'duplicate']).describe('duplicate: this fillId was already recorded with the same body'),
    analysisDueAt: z.string().describe('ISO 8601: when the analysis (fill time + window) is computed'),
    flags: z
      .array(z.enum(['NO_OPEN_RESERVATION', 'JOURNALED']))
      .describe(
        'NO_OPEN_RESERVATION: the fill names a decision with no open reservation (unknown, released, expired or used up); positions were updated all the same. ' +
          "JOURNALED: Redis did not take the fill at once (down, or no replica acknowledged): it is in this service's local journal, fsynced, and is applied to positions and analysed exactly once when replayed into Redis. Until then a resend with another body under the same fillId is refused 409 by this replica, and the same body gets the same answer; a conflict with a fill only Redis or another replica's journal holds is found at replay (logged, left out)",
      ),
  })
  .meta({ id: 'FillAccepted' });

export const FillParamsSchema = z.object({ fillId: ClientIdSchema });

export const FillStatusSchema = z
  .object({
    fillId: z.string(),
    status: z.enum(['pending', 'analysed']),
    analysisDueAt: z.string(),
    analysis: FillAnalysisSchema.nullable(),
  })
  .meta({ id: 'FillStatus' });

const instant = z.iso.datetime({ offset: true });

export const ReportQuerySchema = z
  .object({
    symbol: z.string().regex(/^[A-Z0-9]{2,20}$/).optional(),
    accountId: ClientIdSchema.optional(),
    from: instant.optional().describe('ISO 8601; default 7 days before `to`'),
    to: instant.optional().describe('ISO 8601; default now'),
  })
  .strict();

const SlippageStatsSchema = z.object({ n: z.number().int(), meanBps: z.number().nullable(), medianBps: z.number().nullable() });

export const ReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    windowMs: z.number().describe('The window W around each exit'),
    fills: z.number().int(),
    pending: z.number().int().describe('Fills in the range whose analysis is not due yet are not counted'),
    truncated: z.boolean().describe('More fills than one report reads (REPORT_MAX_FILLS): narrow the range'),
    exits: z.object({
      n: z.number().int(),
      clusterAffected: z.number().int(),
      clusterAffectedShare: z.number().nullable(),
      meanRevertedShareWhenAffected: z.number().nullable(),
    }),
    slippage: z.object({ insideZones: SlippageStatsSchema, outsideZones: SlippageStatsSchema, zoneUnknown: z.number().int() }),
    byHourUtc: z.array(
      z.object({
        hourUtc: z.number().int(),
        n: z.number().int(),
        predictedMeanBps: z.number().nullable(),
        realizedMeanBps: z.number().nullable(),
        realizedOverPredictedMedian: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'PosttradeReport' });

export const CalibrationQuerySchema = ReportQuerySchema.extend({
  minSamples: z.coerce.number().int().min(1).max(100_000).default(20).describe('Fewest fills in an hour before a change is proposed for it'),
}).strict();

export const CalibrationSchema = z
  .object({
    symbol: z.string().nullable(),
    from: z.string(),
    to: z.string(),
    applied: z.literal(false).describe('Proposals only: the service never changes its policy by itself'),
    timeOfDayHourlyUtc: z.array(
      z.object({
        hourUtc: z.number().int(),
        n: z.number().int(),
        currentMultiplier: z.number(),
        realizedOverPredicted: z.number().nullable(),
        interval: z.tuple([z.number(), z.number()]).nullable().describe('90% bootstrap interval of the ratio'),
        proposedMultiplier: z.number().nullable(),
        proposedInterval: z.tuple([z.number(), z.number()]).nullable(),
        note: z.string(),
      }),
    ),
  })
  .meta({ id: 'PosttradeCalibration' });
