import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../../src/domain/pretrade/index.js';
import { jsonSerializerFor } from '../../../src/http/schema-serializer.js';
import { PretradeDecisionSchema, type PretradeDecision } from '../../../src/modules/pretrade/schemas.js';

const decisionJson = jsonSerializerFor(PretradeDecisionSchema);

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
    confidence: { value: 0.5, unlocatedShare: 0.08, venueCoverage: 1, accuracy: 0.5 },
    heatmapVersion: 7,
    source: 'sim',
    policyVersion: 'abc123',
    ...overrides,
  };
}

// The gate's numbers are finite (bounded inputs); JSON has no NaN or Infinity either.
const num = () => fc.double({ noNaN: true, noDefaultInfinity: true });
const reasonArb = fc.record({
  code: fc.constantFrom(...REASON_CODES),
  message: fc.string(),
  limit: fc.oneof(fc.constant(null), num(), fc.string()),
  observed: fc.oneof(fc.constant(null), num(), fc.string()),
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
  requestedQuantity: num(),
  approvedQuantity: num(),
  requestedNotional: num(),
  approvedNotional: num(),
  reasons: fc.array(reasonArb, { maxLength: 4 }),
  warnings: fc.array(reasonArb, { maxLength: 4 }),
  riskScore: fc.double({ min: 0, max: 100, noNaN: true }),
  nearestCluster: nullable(
    fc.record({
      side: fc.constantFrom('long' as const, 'short' as const),
      peakPrice: num(),
      distanceBps: num(),
      notionalUsd: num(),
      major: fc.boolean(),
    }),
  ),
  expectedSlippageBps: nullable(num()),
  maxSafeLeverage: nullable(num()),
  timeOfDayMultiplier: num(),
  heatmapAsOf: nullable(fc.string()),
  heatmapAgeMs: nullable(num()),
  heatmapVersion: nullable(fc.integer()),
  source: nullable(fc.string()),
  confidence: nullable(
    fc.record({
      value: fc.double({ min: 0, max: 1, noNaN: true }),
      unlocatedShare: fc.double({ min: 0, max: 1, noNaN: true }),
      venueCoverage: fc.double({ min: 0, max: 1, noNaN: true }),
      accuracy: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  ),
  policyVersion: fc.string(),
  retryAfterMs: fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: undefined }),
}, { requiredKeys: ['decisionId', 'evaluatedAt', 'validUntil', 'symbol', 'side', 'clientOrderId', 'decision', 'requestedQuantity', 'approvedQuantity', 'requestedNotional', 'approvedNotional', 'reasons', 'warnings', 'riskScore', 'nearestCluster', 'expectedSlippageBps', 'maxSafeLeverage', 'timeOfDayMultiplier', 'heatmapAsOf', 'heatmapAgeMs', 'heatmapVersion', 'source', 'confidence', 'policyVersion'] });

describe('the decision serializer derived from PretradeDecisionSchema', () => {
  it('when given a typical decision, then it writes exactly what JSON.stringify writes', () => {
    const d = buildDecision();
    expect(decisionJson(d)).toBe(JSON.stringify(d));
  });

  it('when fields are null, empty, negative zero or need escaping, then it still matches JSON.stringify', () => {
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
    });
    expect(decisionJson(d)).toBe(JSON.stringify(d));
  });

  it("when given any decision of the schema's shape, then it parses back to that decision", () => {
    fc.assert(
      fc.property(decisionArb, (d) => {
        expect(PretradeDecisionSchema.parse(JSON.parse(decisionJson(d)))).toEqual(JSON.parse(JSON.stringify(d)));
      }),
      { numRuns: 300 },
    );
  });

  it('when parsed back, then its keys are the schema fields in declaration order', () => {
    expect(Object.keys(JSON.parse(decisionJson(buildDecision({ retryAfterMs: 6_000 }))) as object)).toEqual(Object.keys(PretradeDecisionSchema.shape));
  });

  it('when no trading limit answered (retryAfterMs absent), then the field is left out, not written as null', () => {
    const json = decisionJson(buildDecision());
    expect(json).toBe(JSON.stringify(buildDecision()));
    expect(JSON.parse(json)).not.toHaveProperty('retryAfterMs');
  });

  it('when a field the schema requires is missing, then it throws instead of writing a partial decision', () => {
    const { policyVersion: _, ...partial } = buildDecision();
    expect(() => decisionJson(partial as PretradeDecision)).toThrow(/policyVersion/);
  });

  it('when the object carries a field the schema lacks, then it is not written', () => {
    const d = { ...buildDecision(), internal: 'secret' } as PretradeDecision;
    expect(JSON.parse(decisionJson(d))).not.toHaveProperty('internal');
  });
});
