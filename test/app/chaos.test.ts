import { describe, expect, it } from 'vitest';
import { formatTable, runChaos } from '../../scripts/chaos.js';

/**
 * `npm run chaos -- --short` in CI: the real server in child processes through every
 * failure scenario. Nothing answered may be lost in any of them; the takeover and
 * propagation times are measured and printed with their targets, but (machine load)
 * only required to happen here — the full harness judges them. CI runs it in its first
 * pass only (LIQ_GATE_CHAOS_IN_SUITE=0 in the Node 26 pass: minutes of start-ups).
 */
describe.skipIf(process.env.LIQ_GATE_CHAOS_IN_SUITE === '0')('chaos harness (short)', { timeout: 600_000 }, () => {
  it('when Redis fails, its primary fails over, the service is killed or a replica dies under load, then every decision answered is found in Redis, once; a lease is taken over and a halt reaches a replica without pub/sub', async () => {
    const rows = await runChaos({ short: true });
    console.log(formatTable(rows));

    const run = rows.filter((r) => !r.skipped);
    expect(run.map((r) => r.scenario)).toEqual([
      'redis-outage-under-load',
      'sigkill-under-load',
      'sigkill-during-outage',
      'sigterm-during-outage',
      'primary-kill-sentinel-failover',
      'replica-kill-takeover',
      'pubsub-loss-propagation',
    ]);
    for (const r of run.filter((x) => x.found !== null)) {
      expect({ scenario: r.scenario, lost: r.answered - (r.found ?? 0), duplicates: r.duplicates }).toEqual({ scenario: r.scenario, lost: 0, duplicates: 0 });
      expect(r.answered).toBeGreaterThan(0);
    }
    for (const r of run.filter((x) => x.measured !== null)) expect(Number.isFinite(r.measured?.ms), `${r.scenario} measured`).toBe(true);
  });
});
