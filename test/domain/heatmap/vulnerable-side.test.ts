import { describe, expect, it } from 'vitest';
import { HeatmapParamsSchema } from '../../../src/domain/heatmap/index.js';
import { readVulnerableSide } from '../../../src/domain/heatmap/vulnerable-side.js';

const p = HeatmapParamsSchema.parse({});
const neutral = { fundingRate: p.funding.neutral, oiChangePct: 0, longNearUsd: 0, shortNearUsd: 0 };

describe('readVulnerableSide (candidate: funding + OI build-up + on-side notional)', () => {
  it('when funding is neutral and nothing is near the price, then no side is vulnerable', () => {
    expect(readVulnerableSide(neutral, p).score).toBe(0);
  });

  it('when funding is neutral but far more long notional sits near the price, then longs are the vulnerable side', () => {
    const r = readVulnerableSide({ ...neutral, longNearUsd: 900, shortNearUsd: 100 }, p);
    expect(r.notional).toBeCloseTo(0.8, 12);
    expect(r.score).toBeCloseTo(0.5 * 0.8 * 0.5, 12);
  });

  it('when funding says longs and the near notional says shorts equally, then the read is neutral; OI build-up only scales it', () => {
    const tie = readVulnerableSide({ ...neutral, fundingRate: p.funding.neutral + p.funding.scale, longNearUsd: 0, shortNearUsd: 100 }, p);
    expect(tie.score).toBeCloseTo(0, 12);
    const calm = readVulnerableSide({ ...neutral, fundingRate: p.funding.neutral + p.funding.scale }, p);
    const building = readVulnerableSide({ ...neutral, fundingRate: p.funding.neutral + p.funding.scale, oiChangePct: p.crowding.oiChangeScale }, p);
    expect(building.score).toBeCloseTo(2 * calm.score, 12);
    const falling = readVulnerableSide({ ...neutral, fundingRate: p.funding.neutral + p.funding.scale, oiChangePct: -0.5 }, p);
    expect(falling.score).toBeCloseTo(calm.score, 12);
  });

  it('when every input is mirrored, then the score changes sign', () => {
    const a = readVulnerableSide({ fundingRate: p.funding.neutral + 0.0002, oiChangePct: 0.03, longNearUsd: 700, shortNearUsd: 200 }, p);
    const b = readVulnerableSide({ fundingRate: p.funding.neutral - 0.0002, oiChangePct: 0.03, longNearUsd: 200, shortNearUsd: 700 }, p);
    expect(b.score).toBeCloseTo(-a.score, 12);
  });
});
