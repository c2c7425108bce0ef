import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ORDER_BOUNDS, PretradeDecisionSchema } from '../../../src/modules/pretrade/schemas.js';
import { redisKeys } from '../../../src/stores/redis-keys.js';
import { bearer, manualClock, TEST_KEYS } from '../../helpers/app.js';
import { MARK } from '../../domain/pretrade/factories.js';
import { buildRequest, gateForSuite, NOW } from './helpers.js';

/** Every numeric input is bounded, so every 200 carries finite numbers; the audit reads back what it stored. */
describe('numbers over HTTP', () => {
  const clock = manualClock(NOW);
  const app = gateForSuite({ clock, store: 'redis' });
  const post = (body: unknown) => request(app().app.server).post('/pretrade-check').set(bearer(TEST_KEYS.pretrade)).send(body as object);

  /** A 200 whose every number is finite: the schema's numbers (JSON null fails them) and the reasons' limit/observed. */
  function expectFiniteDecision(res: request.Response): void {
    expect(res.status).toBe(200);
    const d = PretradeDecisionSchema.strict().parse(res.body);
    for (const x of [d.requestedQuantity, d.approvedQuantity, d.requestedNotional, d.approvedNotional, d.riskScore]) {
      expect(Number.isFinite(x)).toBe(true);
    }
    for (const r of [...d.reasons, ...d.warnings]) {
      if (typeof r.limit === 'number') expect(Number.isFinite(r.limit)).toBe(true);
      if (typeof r.observed === 'number') expect(Number.isFinite(r.observed)).toBe(true);
    }
  }

  describe('when a number is outside its documented bounds, then 400 names the field and states the bound', () => {
    it.each([
      ['quantity', { quantity: ORDER_BOUNDS.quantity.max * 10 }, 'must be at most 1000000000000'],
      ['quantity', { quantity: 1e-12 }, 'must be at least 1e-9'],
      ['notional', { quantity: undefined, notional: 1e300 }, 'must be at most 1000000000000'],
      ['limitPrice', { orderType: 'limit', limitPrice: 1e10 }, 'must be at most 1000000000'],
      ['limitPrice', { orderType: 'limit', limitPrice: 5e-324 }, 'must be at least 1e-9'],
      ['leverage', { leverage: 1_001 }, 'must be at most 1000'],
      ['leverage', { leverage: 0.5 }, 'must be at least 1'],
    ])('%s %j', async (field, overrides, message) => {
      const res = await post(buildRequest(overrides));
      expect(res.status).toBe(400);
      expect(res.body.details).toContainEqual({ path: `body.${field}`, message });
    });
  });

  it.each([
    ['the largest quantity', { quantity: ORDER_BOUNDS.quantity.max }],
    ['the smallest quantity', { quantity: ORDER_BOUNDS.quantity.min }],
    ['the largest notional', { quantity: undefined, notional: ORDER_BOUNDS.notional.max }],
    ['the smallest notional', { quantity: undefined, notional: ORDER_BOUNDS.notional.min }],
    ['a buy limit at the highest price', { orderType: 'limit', limitPrice: ORDER_BOUNDS.limitPrice.max, quantity: ORDER_BOUNDS.quantity.max }],
    ['a sell limit at the lowest price', { side: 'sell', orderType: 'limit', limitPrice: ORDER_BOUNDS.limitPrice.min }],
    ['the highest leverage', { leverage: ORDER_BOUNDS.leverage.max }],
    ['a reduce-only order at every maximum', { reduceOnly: true, orderType: 'limit', limitPrice: ORDER_BOUNDS.limitPrice.max, quantity: ORDER_BOUNDS.quantity.max, leverage: 1_000 }],
  ])('when the order is %s, then the 200 carries only finite numbers', async (_name, overrides) => {
    expectFiniteDecision(await post(buildRequest(overrides)));
  });

  it('when random in-bounds orders are sent, then every answer is a 200 with only finite numbers', async () => {
    const within = (b: { min: number; max: number }) => fc.double({ min: b.min, max: b.max, noNaN: true, noDefaultInfinity: true });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          side: fc.constantFrom('buy', 'sell'),
          size: fc.oneof(within(ORDER_BOUNDS.quantity).map((quantity) => ({ quantity })), within(ORDER_BOUNDS.notional).map((notional) => ({ notional }))),
          limitPrice: fc.option(fc.oneof(within(ORDER_BOUNDS.limitPrice), fc.double({ min: MARK * 0.9, max: MARK * 1.1, noNaN: true }))),
          leverage: fc.option(within(ORDER_BOUNDS.leverage)),
          reduceOnly: fc.boolean(),
        }),
        async (o) => {
          const body = {
            symbol: 'BTCUSDT',
            side: o.side,
            ...o.size,
            orderType: o.limitPrice === null ? 'market' : 'limit',
            ...(o.limitPrice === null ? {} : { limitPrice: o.limitPrice }),
            ...(o.leverage === null ? {} : { leverage: o.leverage }),
            reduceOnly: o.reduceOnly,
          };
          expectFiniteDecision(await post(body));
        },
      ),
      { numRuns: 60 },
    );
  });

  describe('GET /decisions/:id answers with the record as stored', () => {
    const storedRecords: [string, (id: string) => unknown][] = [
      [
        'a record of an older version: unbounded numbers, non-finite values written as null, epoch-ms heatmapAsOf, no validUntil',
        (id) => ({
          decisionId: id,
          evaluatedAt: '2026-01-01T00:00:00.000Z',
          keyId: 'engine',
          instanceId: 'old-1',
          request: { symbol: 'BTCUSDT', side: 'buy', quantity: 1e300, orderType: 'limit', limitPrice: 1.7e308, leverage: 1e6, reduceOnly: false },
          decision: {
            decisionId: id,
            evaluatedAt: '2026-01-01T00:00:00.000Z',
            symbol: 'BTCUSDT',
            side: 'buy',
            clientOrderId: null,
            decision: 'REJECT',
            requestedQuantity: 1e300,
            approvedQuantity: 0,
            requestedNotional: null,
            approvedNotional: 0,
            reasons: [{ code: 'INVALID_ORDER', message: 'non-finite', limit: null, observed: null }],
            warnings: [],
            riskScore: 0,
            nearestCluster: null,
            expectedSlippageBps: null,
            timeOfDayMultiplier: 1,
            heatmapAsOf: 1_767_225_599_000,
            heatmapAgeMs: 1_000,
            heatmapVersion: 3,
            source: 'sim',
            policyVersion: 'old',
          },
          heatmapVersion: 3,
          policyVersion: 'old',
        }),
      ],
      ['a record with fields of today\'s schema missing', (id) => ({ decisionId: id, evaluatedAt: '2026-01-01T00:00:00.000Z', note: 'truncated by hand' })],
    ];

    it.each(storedRecords)('when it is %s, then 200 with exactly the stored JSON', async (_name, build) => {
      const id = randomUUID();
      const json = JSON.stringify(build(id));
      await app().redis?.set(redisKeys(app().prefix).decision(id), json);
      const res = await request(app().app.server).get(`/decisions/${id}`).set(bearer(TEST_KEYS.read));
      expect(res.status).toBe(200);
      expect(res.text).toBe(json);
    });

    it('when the decision was made here, then the record holds the very decision answered', async () => {
      const made = await post(buildRequest({ quantity: ORDER_BOUNDS.quantity.max }));
      const rec = await request(app().app.server).get(`/decisions/${made.body.decisionId}`).set(bearer(TEST_KEYS.read));
      expect(rec.status).toBe(200);
      expect(rec.body.decision).toEqual(made.body);
      expect(rec.body.request.quantity).toBe(ORDER_BOUNDS.quantity.max);
    });
  });
});
