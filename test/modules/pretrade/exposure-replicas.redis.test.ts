import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { randomPrefix } from '../../helpers/redis.js';
import { buildRequest, check, NOW, publishHeatmap } from './helpers.js';

/**
 * Two replicas (two apps) on one Redis prefix decide at the same moment: the account's
 * check-and-reserve is one script, so together they never over-commit. Mark 100,000.
 */

const LIMIT_USD = 300_000;
const MARK = 100_000;

describe('two replicas on one Redis reserve exposure atomically', () => {
  let opened: TestApp[] = [];
  const clock = manualClock(NOW);
  afterEach(async () => {
    // The first close deletes the prefix's keys: close in reverse, the sharing one last.
    for (const t of opened.reverse()) await t.close();
    opened = [];
  });

  async function replicas(): Promise<[TestApp, TestApp]> {
    clock.set(NOW);
    const env = {
      REDIS_KEY_PREFIX: randomPrefix('exp-replicas'),
      DECISION_VALID_MS: '60000',
      POLICY_JSON: JSON.stringify({ exposure: { limits: { maxPositionNotionalUsd: LIMIT_USD, maxGrossNotionalUsd: 10_000_000, maxNetNotionalUsd: 10_000_000 } } }),
    };
    for (let i = 0; i < 2; i++) {
      const t = await buildTestApp({ clock, store: 'redis', env });
      opened.push(t);
      await publishHeatmap(t);
    }
    return opened as [TestApp, TestApp];
  }

  it('when 24 orders race across both replicas, then the approved quantity never exceeds the per-symbol limit and the store holds exactly what was approved', async () => {
    const [a, b] = await replicas();
    const res = await Promise.all(
      Array.from({ length: 24 }, (_, i) => check((i % 2 === 0 ? a : b).app, buildRequest({ accountId: 'acct-race', quantity: 0.4 }), TEST_KEYS.pretrade)),
    );
    const decisions = res.map((r) => r.json() as { decision: string; decisionId: string; approvedQuantity: number });
    const approved = decisions.reduce((s, d) => s + d.approvedQuantity, 0);
    // Valued at least at the mark, the limit allows at most LIMIT_USD / MARK base units.
    expect(approved).toBeLessThanOrEqual((LIMIT_USD / MARK) * (1 + 1e-9));
    expect(approved).toBeGreaterThan(2.5); // the limit, not an outage, bound it
    expect(decisions.filter((d) => d.decision === 'REJECT').length).toBeGreaterThan(0);
    const state = await a.stores.exposure.get('acct-race');
    const reserved = state?.reservations ?? [];
    expect(reserved.reduce((s, r) => s + r.quantity, 0)).toBeCloseTo(approved, 9);
    expect(new Set(reserved.map((r) => r.decisionId))).toEqual(new Set(decisions.filter((d) => d.approvedQuantity > 0).map((d) => d.decisionId)));
  });

  it('when reduce-only sells race across both replicas against a 1 BTC long, then together they never exceed the position (never flip it)', async () => {
    const [a, b] = await replicas();
    await a.stores.exposure.reconcile('acct-close', NOW - 1_000, [{ symbol: 'BTCUSDT', quantity: 1, entryPrice: 95_000 }], NOW);
    const res = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        check((i % 2 === 0 ? a : b).app, buildRequest({ accountId: 'acct-close', side: 'sell', reduceOnly: true, quantity: 0.3 }), TEST_KEYS.pretrade),
      ),
    );
    const decisions = res.map((r) => r.json() as { decision: string; approvedQuantity: number; reasons: { code: string }[] });
    const approved = decisions.reduce((s, d) => s + d.approvedQuantity, 0);
    expect(approved).toBeLessThanOrEqual(1 + 1e-9);
    expect(approved).toBeGreaterThan(0.9); // resized to what is left, not refused wholesale
    expect(decisions.some((d) => d.reasons.some((r) => r.code === 'REDUCE_ONLY_CAPPED'))).toBe(true);
  });
});
