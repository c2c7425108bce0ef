import { afterEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import type { TradingStateStore } from '../../../src/stores/trading-state-store.js';
import { buildRequest, codes, check, putTradingState } from './helpers.js';

/** The store as built, but its announcements never arrive (a dropped pub/sub connection). */
const deaf = (store: TradingStateStore): TradingStateStore => ({ ...store, subscribe: async () => async () => {} });

/** Two replicas on one Redis prefix; the second hears no announcements. */
async function twoReplicas(): Promise<{ writer: TestApp; deafReplica: TestApp }> {
  const writer = await buildTestApp({ store: 'redis' });
  const deafReplica = await buildTestApp({
    store: 'redis',
    env: { REDIS_KEY_PREFIX: writer.prefix },
    stores: (built) => ({ tradingState: deaf(built.tradingState) }),
  });
  return { writer, deafReplica };
}

async function rejectsOpening(t: TestApp): Promise<boolean> {
  const res = await check(t.app, buildRequest());
  return codes(res.json()).includes('TRADING_HALTED');
}

describe('kill switch propagation without pub/sub', () => {
  let apps: TestApp[] = [];
  afterEach(async () => {
    for (const a of apps.reverse()) await a.close();
    apps = [];
  });

  it('when a replica hears no announcements, then the PUT answers once both live replicas applied the halt, and that replica already rejects', async () => {
    const { writer, deafReplica } = await twoReplicas();
    apps = [writer, deafReplica];
    expect(await rejectsOpening(deafReplica)).toBe(false);

    const put = await putTradingState(writer.app, { state: 'HALTED', reason: 'propagation test' });

    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ applied: 2, replicas: 2, pending: [], complete: true });
    expect(await rejectsOpening(deafReplica)).toBe(true);
  });

  it('when the PUT does not wait, then the deaf replica still rejects opening orders within a second of the answer (the periodic refresh)', async () => {
    const { writer, deafReplica } = await twoReplicas();
    apps = [writer, deafReplica];

    const put = await writer.app.inject({
      method: 'PUT',
      url: '/admin/trading-state?wait=0',
      headers: bearer(TEST_KEYS.admin),
      payload: { state: 'HALTED', reason: 'propagation test' },
    });
    const ackAt = Date.now();
    expect(put.statusCode).toBe(200);
    expect(put.json().replicas).toBe(2);

    let rejectedAfterMs = Number.POSITIVE_INFINITY;
    while (Date.now() - ackAt < 5_000) {
      if (await rejectsOpening(deafReplica)) {
        rejectedAfterMs = Date.now() - ackAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    // A functional bound (the goal is 1 s), with slack for a loaded machine: not a performance assertion.
    expect(rejectedAfterMs).toBeLessThanOrEqual(3_000);
  });

  it('when a live replica has not applied the change by the end of the wait, then the PUT answers incomplete and names it', async () => {
    const writer = await buildTestApp({ store: 'redis' });
    apps = [writer];
    // A replica that acknowledges (is live) but is stuck on version 0.
    await writer.stores.tradingState.acknowledge('stuck#0001', 0);

    const put = await writer.app.inject({
      method: 'PUT',
      url: '/admin/trading-state?wait=100',
      headers: bearer(TEST_KEYS.admin),
      payload: { state: 'HALTED', reason: 'propagation test' },
    });

    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ applied: 1, replicas: 2, pending: ['stuck#0001'], complete: false });
  });

  it('when the store is memory, then this replica is the only one and has applied the change', async () => {
    const t = await buildTestApp();
    apps = [t];
    const put = await putTradingState(t.app, { state: 'REDUCING', reason: 'single replica' });
    expect(put.json()).toMatchObject({ applied: 1, replicas: 1, pending: [], complete: true });
  });
});
