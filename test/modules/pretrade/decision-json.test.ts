import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../../src/domain/pretrade/index.js';
import { DECISION_KEYS, decisionJson } from '../../../src/modules/pretrade/decision-json.js';
import type { PretradeDecision } from '../../../src/modules/pretrade/schemas.js';

function buildDecision(overrides: Partial<PretradeDecision> = {}): PretradeDecision {
  return {
    decisionId: '0f8e3d5e-2b7a-4d8e-9d0a-1c2b3a4d5e6f',
    evaluatedAt: '2026-11-24T11:30:00.000Z',
    validUntil: '2026-11-24T11:30:05.000Z',
    symbol: 'BTCUSDT',
    side: 'buy',
    clientOrderId: null,
    decision: 'RESIZE',
    requestedQuantity: 1,
    approvedQuantity: 0.5,
    requestedNotional: 100_000,
    approvedNotional: 50_000,
    reasons: [{ code: 'SLIPPAGE_LIMIT', message: 'Allows at most 0.5 of the 1 requested.', limit: 5, observed: 7.25 }],
    warnings: [],
    riskScore: 42,
    nearestCluster: { side: 'long', peakPrice: 95_000.5, distanceBps: 480, notionalUsd: 6e7, major: true },
    expectedSlippageBps: 7.25,
    maxSafeLeverage: 12.5,
    timeOfDayMultiplier: 1,
    heatmapAsOf: '2026-11-24T11:29:59.000Z',
    heatmapAgeMs: 1_000,
    heatmapVersion: 7,
    source: 'sim',
    policyVersion: 'abc123',
    ...overrides,
  };
}

const reasonArb = fc.record({
  code: fc.constantFrom(...REASON_CODES),
  message: fc.string(),
  limit: fc.oneof(fc.constant(null), fc.double(), fc.string()),
  observed: fc.oneof(fc.constant(null), fc.double(), fc.string()),
});
const nullable = <T>(a: fc.Arbitrary<T>) => fc.oneof(fc.constant(null), a);

const decisionArb: fc.Arbitrary<PretradeDecision> = fc.record({
  decisionId: fc.uuid(),
  evaluatedAt: fc.string(),
  validUntil: fc.string(),
  symbol: fc.string(),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  clientOrderId: nullable(fc.string()),
  decision: fc.constantFrom('APPROVE' as const, 'RESIZE' as const, 'REJECT' as const),
  requestedQuantity: fc.double(),
  approvedQuantity: fc.double(),
  requestedNotional: fc.double(),
  approvedNotional: fc.double(),
  reasons: fc.array(reasonArb, { maxLength: 4 }),
  warnings: fc.array(reasonArb, { maxLength: 4 }),
  riskScore: fc.double(),
  nearestCluster: nullable(
    fc.record({
      side: fc.constantFrom('long' as const, 'short' as const),
      peakPrice: fc.double(),
      distanceBps: fc.double(),
      notionalUsd: fc.double(),
      major: fc.boolean(),
    }),
  ),
  expectedSlippageBps: nullable(fc.double()),
  maxSafeLeverage: nullable(fc.double()),
  timeOfDayMultiplier: fc.double(),
  heatmapAsOf: nullable(fc.string()),
  heatmapAgeMs: nullable(fc.double()),
  heatmapVersion: nullable(fc.integer()),
  source: nullable(fc.string()),
  policyVersion: fc.string(),
});

describe('decisionJson (the hot path serializer of a decision)', () => {
  it('when given a typical decision, then it writes exactly what JSON.stringify writes', () => {
    const d = buildDecision();
    expect(decisionJson(d)).toBe(JSON.stringify(d));
  });

  it('when fields are null, empty, negative zero, non-finite or need escaping, then it still matches JSON.stringify', () => {
    const d = buildDecision({
      clientOrderId: 'a"b\\c\n',
      reasons: [],
      warnings: [{ code: 'TRADING_HALTED', message: 'quote " and \u2028 line sep', limit: 'HALTED', observed: null }],
      nearestCluster: null,
      expectedSlippageBps: null,
      heatmapAsOf: null,
      heatmapAgeMs: -0,
      heatmapVersion: null,
      source: null,
      requestedNotional: Number.NaN,
      approvedNotional: Number.POSITIVE_INFINITY,
    });
    expect(decisionJson(d)).toBe(JSON.stringify(d));
  });

  it('when given any decision of the schema\'s shape, then it matches JSON.stringify', () => {
    fc.assert(
      fc.property(decisionArb, (d) => {
        expect(decisionJson(d)).toBe(JSON.stringify(d));
      }),
      { numRuns: 300 },
    );
  });

  it('when parsed back, then its keys are every decision field in declaration order', () => {
    expect(Object.keys(JSON.parse(decisionJson(buildDecision())) as object)).toEqual([...DECISION_KEYS]);
  });
});
