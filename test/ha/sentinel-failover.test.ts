import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/infra.js';
import { createLogger } from '../../src/logger.js';
import type { RedisClient } from '../../src/stores/redis-client.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { waitUntil } from '../helpers/redis-server.js';
import { randomPrefix } from '../helpers/redis.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../helpers/redis-topologies.js';
import { buildRequest, check, NOW, publishHeatmap } from '../modules/pretrade/helpers.js';

/*
 * The gate on a Sentinel setup (primary, one replica, three sentinels from Debian's
 * redis-server), the primary SIGKILLed under a stream of /pretrade-check. With
 * AUDIT_DURABILITY=replica (a group is durable once WAIT saw a replica take it) and the
 * local journal (what Redis could not take, replayed once it can), every decision answered
 * must be in the audit log on the promoted replica or in the journal (to be replayed there).
 * Measured figures are printed (one JSON line): answers by status, decisions answered vs
 * records found (in Redis, in the journal), time from the kill to the promotion.
 */

const WORKERS = 4;
const LOAD_BEFORE_KILL_MS = 1_000;
const LOAD_AFTER_PROMOTION_MS = 2_000;

describe('the gate on Redis Sentinel, primary killed under load', () => {
  let sentinel: RedisSentinelHandle;
  let redis: RedisClient;
  let t: TestApp;
  let journalDir: string;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    redis = await connectRedis({ sentinels: sentinel.sentinels, name: sentinel.name }, createLogger('silent'));
    journalDir = mkdtempSync(join(tmpdir(), 'liq-gate-ha-journal-'));
    t = await buildTestApp({
      store: 'redis',
      redis,
      clock: () => NOW,
      env: { REDIS_KEY_PREFIX: randomPrefix('sentinel'), AUDIT_DURABILITY: 'replica', AUDIT_WAIT_TIMEOUT_MS: '500', AUDIT_JOURNAL_DIR: journalDir },
    });
    await publishHeatmap(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    redis?.disconnect();
    await sentinel?.stop();
    if (journalDir) rmSync(journalDir, { recursive: true, force: true });
  });

  it('when the primary dies, then the replica is promoted, the gate keeps answering and every answered decision is in the audit log or the journal', async () => {
    const byStatus = new Map<number, number>();
    const answered: string[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const res = await check(t.app, buildRequest());
        byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 200) answered.push(res.json<{ decisionId: string }>().decisionId);
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, worker));
    try {
      await new Promise((r) => setTimeout(r, LOAD_BEFORE_KILL_MS));
      const killedAt = Date.now();
      await sentinel.primary.kill();
      await waitUntil(async () => (await sentinel.currentPrimaryPort()) === sentinel.replica.port, 30_000, 'sentinel failover');
      const promotedAt = Date.now();
      await new Promise((r) => setTimeout(r, LOAD_AFTER_PROMOTION_MS));
      stop = true;
      await load;

      // With AUDIT_DURABILITY=replica a group is durable only once a replica has it: the
      // promoted node has none until the old primary is back as its replica, so from the
      // failover on, records wait in the local journal (fsynced before the answer) to be
      // replayed then. Each answered decision is in Redis or in the journal.
      const journal = t.stores.auditJournal;
      if (!journal) throw new Error('no journal');
      let inRedis = 0;
      let inJournal = 0;
      const missing: string[] = [];
      for (const id of answered) {
        if ((await t.stores.auditLog.get(id).catch(() => null)) !== null) inRedis++;
        else if ((await journal.get(id)) !== null) inJournal++;
        else missing.push(id);
      }
      console.log(
        JSON.stringify({
          answersByStatus: Object.fromEntries(byStatus),
          decisionsAnswered: answered.length,
          auditRecordsInRedis: inRedis,
          auditRecordsInJournal: inJournal,
          missing: missing.length,
          promotedAfterMs: promotedAt - killedAt,
        }),
      );
      expect(answered.length).toBeGreaterThan(0);
      expect(missing).toEqual([]);
    } finally {
      stop = true;
      await load;
    }
  }, 60_000);
});
