import { describe, expect, it } from 'vitest';
import { bearer, manualClock, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { appPerTest } from '../helpers/suite.js';
import { buildSnapshot } from '../helpers/snapshots.js';

const messages = (t: TestApp) => t.logs.lines.map((l) => JSON.parse(l) as { msg: string; level: number; symbol?: string; afterMs?: number });

describe('what reaches the logs at info', () => {
  const buildApp = appPerTest();

  it('when probes and orders arrive, then no line per request is written at info (requests are logged at debug)', async () => {
    const t = await buildApp({ env: { LOG_LEVEL: 'info' } });
    const before = t.logs.lines.length;
    for (let i = 0; i < 5; i++) await t.app.inject({ method: 'GET', url: '/health/live' });
    await t.app.inject({ method: 'POST', url: '/pretrade-check', headers: bearer(TEST_KEYS.pretrade), payload: { symbol: 'BTCUSDT', side: 'buy', notional: 1000, orderType: 'market' } });
    expect(t.logs.lines.slice(before)).toEqual([]);
  });

  it('when LOG_LEVEL is debug, then each request is logged once with its status', async () => {
    const t = await buildApp({ env: { LOG_LEVEL: 'debug' } });
    await t.app.inject({ method: 'GET', url: '/health/live' });
    const done = messages(t).filter((m) => m.msg === 'request completed');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ level: 20, statusCode: 200, url: '/health/live' });
  });

  it('when the first heatmap of each symbol arrives, then startup progress says so per symbol with its time, then once that the gate is ready', async () => {
    const clock = manualClock();
    const t = await buildApp({ clock, env: { LOG_LEVEL: 'info' } });
    clock.advance(1_500);
    await t.publish(buildSnapshot({ symbol: 'BTCUSDT', asOf: clock() }));
    await t.publish(buildSnapshot({ symbol: 'BTCUSDT', asOf: clock() + 1 }));
    expect(messages(t).filter((m) => m.msg.startsWith('every symbol'))).toEqual([]);
    clock.advance(500);
    await t.publish(buildSnapshot({ symbol: 'ETHUSDT', asOf: clock() }));
    const firsts = messages(t).filter((m) => m.msg === 'first heatmap for symbol');
    expect(firsts.map((m) => [m.symbol, m.afterMs])).toEqual([
      ['BTCUSDT', 1_500],
      ['ETHUSDT', 2_000],
    ]);
    expect(messages(t).filter((m) => m.msg === 'every symbol has a heatmap: ready to gate')).toHaveLength(1);
  });
});
