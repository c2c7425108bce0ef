import { describe, expect, it } from 'vitest';
import { ModelHealthParamsSchema, ModelHealthTracker, confidenceOf, type ModelHealth, type ModelHealthParams } from '../../../src/domain/model-health/index.js';
import { buildHeatmap } from '../pretrade/factories.js';
import { buildWorld, worldHeatmap, type WorldPeriod } from './world.js';

const PERIOD_MS = 3_600_000;
const params = (o: Partial<ModelHealthParams> = {}): ModelHealthParams => ModelHealthParamsSchema.parse({ periodMinutes: 60, ...o });
const START = Date.UTC(2026, 10, 24, 0, 0);

/** Plays the world through a tracker: per period a poll at its start (the ladder), one mid-period with the events, and the next period's start closes it. */
function play(world: readonly WorldPeriod[], p: ModelHealthParams, shiftBins = 0): { tracker: ModelHealthTracker; health: ModelHealth } {
  const tracker = new ModelHealthTracker(p);
  let health = tracker.health();
  world.forEach((period, i) => {
    const t0 = START + i * PERIOD_MS;
    tracker.observe({ now: t0, heatmap: worldHeatmap(period, period.open, t0, shiftBins), events: [] });
    const mid = t0 + PERIOD_MS / 2 + 1;
    tracker.observe({ now: mid, heatmap: worldHeatmap(period, period.low, mid, shiftBins), events: period.events });
    const late = t0 + PERIOD_MS - 1;
    health = tracker.observe({ now: late, heatmap: worldHeatmap(period, period.high, late, shiftBins), events: [] });
  });
  const end = START + world.length * PERIOD_MS;
  health = tracker.observe({ now: end, heatmap: null, events: [] });
  return { tracker, health };
}

describe('live model health', () => {
  it('when fewer realized liquidations than the minimum have been seen, then health is unknown', () => {
    const world = buildWorld(10, PERIOD_MS);
    const events = world.reduce((s, p) => s + p.events.length, 0);
    const { health } = play(world, params({ minEvents: events + 1 }));
    expect(health.events).toBe(events);
    expect(health.status).toBe('unknown');
  });

  it('when no period has closed yet, then health is unknown with no scores', () => {
    const t = new ModelHealthTracker(params());
    const h = t.observe({ now: START, heatmap: buildHeatmap(), events: [] });
    expect(h).toMatchObject({ status: 'unknown', sweptMass: null, priceLevel: null, events: 0, periods: 0 });
  });

  it('when the ladder is where the liquidations then happen, then both scores are high and health is healthy', () => {
    const { health } = play(buildWorld(40, PERIOD_MS), params());
    expect(health.status).toBe('healthy');
    expect(health.sweptMass).toBeGreaterThan(0.6);
    expect(health.priceLevel).toBeGreaterThan(0.5);
  });

  it('when the same market is scored against a ladder shifted by 200 bps, then the scores fall and health is degraded', () => {
    const world = buildWorld(40, PERIOD_MS);
    const right = play(world, params()).health;
    const shifted = play(world, params(), 20).health;
    expect(shifted.priceLevel).toBeLessThan((right.priceLevel ?? 0) - 0.3);
    expect(shifted.status).toBe('degraded');
  });

  it('when more periods close than the window holds, then only the last windowPeriods are kept', () => {
    const { health } = play(buildWorld(30, PERIOD_MS), params({ windowPeriods: 12 }));
    expect(health.periods).toBe(12);
  });

  it('when liquidations are reported after their period closed, then they are counted as late and not scored', () => {
    const world = buildWorld(3, PERIOD_MS);
    const t = new ModelHealthTracker(params());
    t.observe({ now: START, heatmap: worldHeatmap(world[0]!, world[0]!.open, START), events: [] });
    t.observe({ now: START + PERIOD_MS, heatmap: worldHeatmap(world[1]!, world[1]!.open, START + PERIOD_MS), events: [] });
    const h = t.observe({ now: START + 2 * PERIOD_MS, heatmap: null, events: world[0]!.events });
    expect(t.lateEvents).toBe(world[0]!.events.length);
    expect(h.events).toBe(0);
  });

  it('when polling stopped for longer than the window, then the old periods leave it', () => {
    const p = params({ windowPeriods: 5 });
    const { tracker } = play(buildWorld(8, PERIOD_MS), p);
    const h = tracker.observe({ now: START + 100 * PERIOD_MS, heatmap: null, events: [] });
    expect(h.periods).toBe(0);
    expect(h.status).toBe('unknown');
  });
});

describe('heatmap confidence', () => {
  const healthy: ModelHealth = { status: 'healthy', sweptMass: 0.7, priceLevel: 0.5, events: 100, periods: 72, windowMs: 1 };
  const p = params();

  it('when every part is good, then confidence is the weakest part', () => {
    const c = confidenceOf({ heatmap: buildHeatmap({ unlocatedUsd: 20_000_000 }), venuesFresh: 3, venuesConfigured: 3, health: healthy, params: p });
    expect(c).toEqual({ value: 0.9, unlocatedShare: 0.1, venueCoverage: 1, accuracy: 1 });
  });

  it('when one of three venues is missing, then coverage and confidence are two thirds', () => {
    const c = confidenceOf({ heatmap: buildHeatmap({ unlocatedUsd: 0 }), venuesFresh: 2, venuesConfigured: 3, health: healthy, params: p });
    expect(c.venueCoverage).toBeCloseTo(2 / 3);
    expect(c.value).toBeCloseTo(2 / 3);
  });

  it('when health is unknown, then accuracy is the policy value; degraded is at most that', () => {
    const unknown = confidenceOf({ heatmap: buildHeatmap({ unlocatedUsd: 0 }), venuesFresh: 1, venuesConfigured: 1, health: { ...healthy, status: 'unknown' }, params: p });
    expect(unknown.accuracy).toBe(0.5);
    const degraded = confidenceOf({
      heatmap: buildHeatmap({ unlocatedUsd: 0 }),
      venuesFresh: 1,
      venuesConfigured: 1,
      health: { ...healthy, status: 'degraded', priceLevel: 0.05 },
      params: p,
    });
    expect(degraded.accuracy).toBeCloseTo(0.25);
  });

  it('when the map does not say how much is unlocated, then it counts as all unlocated', () => {
    const c = confidenceOf({ heatmap: buildHeatmap(), venuesFresh: 1, venuesConfigured: 1, health: healthy, params: p });
    expect(c).toMatchObject({ unlocatedShare: 1, value: 0 });
  });
});
