import { describe, expect, it } from 'vitest';
import { DemoEngine } from '../../../src/modules/posttrade/demo-engine.js';
import type { FillIntake } from '../../../src/modules/posttrade/routes.js';
import type { PretradeDecision, PretradeRequest } from '../../../src/modules/pretrade/schemas.js';
import { createLogger } from '../../../src/logger.js';
import { buildSnapshot } from '../../helpers/snapshots.js';
import { manualClock } from '../../helpers/app.js';

function decisionFor(o: PretradeRequest, kind: PretradeDecision['decision'] = 'APPROVE'): PretradeDecision {
  const q = o.quantity ?? (o.notional ?? 0) / 100_000;
  return { decisionId: `d-${Math.random()}`, decision: kind, approvedQuantity: kind === 'REJECT' ? 0 : q } as PretradeDecision;
}

function buildEngine(verdict: PretradeDecision['decision'] = 'APPROVE') {
  const clock = manualClock();
  const orders: PretradeRequest[] = [];
  const fills: Parameters<FillIntake>[0][] = [];
  const snap = { ...buildSnapshot({ asOf: clock() }), version: 1 };
  const engine = new DemoEngine({
    symbols: ['BTCUSDT'],
    reader: { get: () => snap },
    pretrade: {
      check: async (o) => {
        orders.push(o);
        return decisionFor(o, verdict);
      },
    },
    intake: async (body) => {
      fills.push(body);
      return { status: 'accepted', dueAt: 0, flags: [] };
    },
    clock,
    logger: createLogger('silent'),
    seed: 7,
    tickMs: 1_000,
    holdMs: 20_000,
  });
  return { engine, clock, orders, fills };
}

describe('the demo engine (simulator only)', () => {
  it('when it opens a position, then the order goes through the gate and the fill names its decision; it closes it reduce-only after the hold time', async () => {
    const { engine, clock, orders, fills } = buildEngine();
    await engine.step();
    expect(orders[0]).toMatchObject({ reduceOnly: false, leverage: 10, orderType: 'market' });
    expect(fills[0]).toMatchObject({ reducesPosition: false, symbol: 'BTCUSDT' });
    expect(fills[0]!.decisionId).toMatch(/^d-/);
    expect(fills[0]!.price).toBeGreaterThan(0);

    clock.advance(5_000);
    await engine.step();
    expect(orders).toHaveLength(1); // still holding

    clock.advance(20_000);
    await engine.step();
    expect(orders[1]).toMatchObject({ reduceOnly: true, quantity: fills[0]!.quantity });
    expect(orders[1]!.side).not.toBe(orders[0]!.side);
    expect(fills[1]).toMatchObject({ reducesPosition: true, quantity: fills[0]!.quantity });
  });

  it('when the gate rejects, then nothing is filled', async () => {
    const { engine, orders, fills } = buildEngine('REJECT');
    await engine.step();
    expect(orders).toHaveLength(1);
    expect(fills).toHaveLength(0);
    expect(engine.counts.rejected).toBe(1);
  });
});
