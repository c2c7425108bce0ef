import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { buildRequest, codes, check, NOW, publishHeatmap } from './helpers.js';

const POLICY = {
  pretrade: { maxNotionalUsd: 200_000 },
  symbols: { BTCUSDT: { pretrade: { maxNotionalUsd: 50_000 } } },
};

describe('when the policy sets a global limit and a per-symbol override', () => {
  let t: TestApp;
  const clock = manualClock(NOW);

  beforeEach(async () => {
    clock.set(NOW);
    t = await buildTestApp({ clock, env: { POLICY_JSON: JSON.stringify(POLICY) } });
    await publishHeatmap(t, { symbol: 'BTCUSDT' });
    await publishHeatmap(t, { symbol: 'ETHUSDT' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('then GET /policy shows the override for that symbol and the global value for the others', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/policy', headers: bearer(TEST_KEYS.read) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.defaults.pretrade.maxNotionalUsd).toBe(200_000);
    expect(body.symbols.BTCUSDT.pretrade.maxNotionalUsd).toBe(50_000);
    expect(body.symbols.ETHUSDT.pretrade.maxNotionalUsd).toBe(200_000);
  });

  it('then an order above the symbol override is rejected MAX_NOTIONAL at that limit, and the same order elsewhere is not', async () => {
    const btc = (await check(t.app, buildRequest({ symbol: 'BTCUSDT', quantity: undefined, notional: 100_000 }))).json();
    expect(btc.decision).toBe('REJECT');
    expect(btc.reasons).toContainEqual(expect.objectContaining({ code: 'MAX_NOTIONAL', limit: 50_000 }));

    const eth = (await check(t.app, buildRequest({ symbol: 'ETHUSDT', quantity: undefined, notional: 100_000 }))).json();
    expect(codes(eth)).not.toContain('MAX_NOTIONAL');
    expect(eth.policyVersion).toBe(btc.policyVersion);
  });

  it('then an order above the global limit is rejected MAX_NOTIONAL at the global value', async () => {
    const eth = (await check(t.app, buildRequest({ symbol: 'ETHUSDT', quantity: undefined, notional: 300_000 }))).json();
    expect(eth.decision).toBe('REJECT');
    expect(eth.reasons).toContainEqual(expect.objectContaining({ code: 'MAX_NOTIONAL', limit: 200_000 }));
  });

  it('then every decision carries the version GET /policy reports, which differs from the default policy', async () => {
    const decision = (await check(t.app, buildRequest({ quantity: 0.01 }))).json();
    const policy = (await t.app.inject({ method: 'GET', url: '/policy', headers: bearer(TEST_KEYS.read) })).json();
    expect(decision.policyVersion).toBe(policy.version);
    const plain = await buildTestApp({ clock });
    try {
      expect(plain.config.policy.version).not.toBe(policy.version);
    } finally {
      await plain.close();
    }
  });
});
