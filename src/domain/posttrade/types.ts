import { z } from 'zod';

/**
 * The post-trade shapes, once: the types are derived from these schemas, which also
 * document the API (GET /posttrade/fills/:fillId, /report) and validate what the store holds.
 */

export const FillSchema = z.object({
  fillId: z.string(),
  decisionId: z.string().nullable(),
  accountId: z.string(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  quantity: z.number().describe('Base units'),
  price: z.number(),
  ts: z.number().describe('Epoch ms of the execution'),
  fee: z.number().nullable(),
  reducesPosition: z.boolean().nullable().describe('An exit; null when neither the engine nor the decision says'),
});
export type Fill = z.infer<typeof FillSchema>;
export type FillSide = Fill['side'];

export const ExitAnalysisSchema = z
  .object({
    clusterAffected: z.boolean().describe('Price traded into or through a major zone within the window around the exit'),
    moveBps: z.number().describe('Largest move from the fill price within the window, bps of the fill price (+ up)'),
    revertedShare: z.number().nullable().describe('Share of that move given back by the end of the window (0..1)'),
    pathPoints: z.number().int().describe('Price points the window had'),
  })
  .meta({ id: 'ExitAnalysis' });
export type ExitAnalysis = z.infer<typeof ExitAnalysisSchema>;

export const FillAnalysisSchema = z
  .object({
    fillId: z.string(),
    decisionId: z.string().nullable(),
    decisionFound: z.boolean().describe('The fill named a decision the audit log has'),
    accountId: z.string(),
    symbol: z.string(),
    side: z.enum(['buy', 'sell']),
    ts: z.number().describe('Epoch ms of the execution'),
    hourUtc: z.number().int().min(0).max(23),
    notionalUsd: z.number(),
    realizedSlippageBps: z.number().nullable().describe('Adverse distance of the fill price from the mid when it was decided, bps'),
    expectedSlippageBps: z.number().nullable().describe("The gate's prediction for the order"),
    inClusterZone: z.boolean().nullable().describe('Fill price inside a cluster zone (null: no heatmap for that time)'),
    inBuffer: z
      .boolean()
      .nullable()
      .describe("Fill price within the gate's no-trade buffer of a major zone, for an order on the fill's side on the map at the fill (confidence, hour, volatility, funding and cascade widening included; docs/posttrade.md); null without that map"),
    distanceToMajorBps: z.number().nullable(),
    exit: ExitAnalysisSchema.nullable().describe('For fills that reduce a position'),
  })
  .meta({ id: 'FillAnalysis' });
export type FillAnalysis = z.infer<typeof FillAnalysisSchema>;
