import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { AuditArchiver } from '../../src/stores/audit-archiver.js';
import type { AuditEntry } from '../../src/stores/audit-log.js';
import { createRedisAuditLog } from '../../src/stores/audit-log.redis.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { deletePrefix, randomPrefix, rawRedis } from '../helpers/redis.js';

const DAY_MS = 86_400_000;

/** A record shaped like the gate's (AuditRecordSchema), about 1.1 KB. */
function buildRecord(overrides: { evaluatedAt?: string } = {}): AuditEntry {
  const decisionId = randomUUID();
  const evaluatedAt = overrides.evaluatedAt ?? '2026-12-02T02:10:00.000Z';
  const decision = {
    decisionId,
    evaluatedAt,
    validUntil: '2026-12-02T02:10:05.000Z',
    symbol: 'BTCUSDT',
    side: 'buy',
    clientOrderId: `co-${decisionId.slice(0, 8)}`,
    decision: 'APPROVE',
    requestedQuantity: 0.01,
    approvedQuantity: 0.01,
    requestedNotional: 650.5,
    approvedNotional: 650.5,
    reasons: [],
    warnings: [{ code: 'NEAR_CLUSTER', message: 'A major liquidation cluster sits 85.2 bps away on the buy side', limit: 100, observed: 85.2 }],
    riskScore: 0.31,
    nearestCluster: { side: 'short', peakPrice: 65600.5, distanceBps: 85.2, notionalUsd: 12_500_000, major: true },
    expectedSlippageBps: 1.2,
    maxSafeLeverage: 12.5,
    timeOfDayMultiplier: 1,
    heatmapAsOf: '2026-12-02T02:09:58.000Z',
    heatmapAgeMs: 2000,
    heatmapVersion: 1234,
    source: 'sim',
    policyVersion: 'sha256:4f1d9a0c2b7e6d5a',
  };
  const json = JSON.stringify({
    decisionId,
    evaluatedAt,
    keyId: 'pretrader',
    instanceId: 'gate-1',
    request: { symbol: 'BTCUSDT', side: 'buy', quantity: 0.01, orderType: 'market', clientOrderId: decision.clientOrderId },
    decision,
    heatmapVersion: 1234,
    policyVersion: decision.policyVersion,
  });
  return { decisionId, json };
}

function readArchive(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl.gz'))
    .flatMap((n) => gunzipSync(readFileSync(join(dir, n))).toString().split('\n').filter(Boolean));
}

describe('audit archive and index on Redis', () => {
  let redis: Redis;
  let prefix: string;
  let dir: string;
  beforeEach(() => {
    redis = rawRedis();
    prefix = randomPrefix('archive');
    dir = mkdtempSync(join(tmpdir(), 'lg-archive-'));
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  const setup = (opts: { now?: () => number; lookupWindowMs?: number } = {}) => {
    const keys = redisKeys(prefix);
    const log = createRedisAuditLog(redis, { streamKey: keys.auditStream(), decisionKey: (id) => keys.decision(id), maxLen: 0, decisionTtlMs: DAY_MS });
    const archiver = new AuditArchiver(
      redis,
      createLogger('silent'),
      {
        streamKey: keys.auditStream(),
        group: 'archiver',
        consumer: 'gate-1',
        dir,
        lookupWindowMs: opts.lookupWindowMs ?? DAY_MS,
        batch: 100,
        intervalMs: 1_000,
        claimIdleMs: 60_000,
      },
      opts.now ?? Date.now,
    );
    return { keys, log, archiver };
  };

  it('when records are archived, then each is in its day\'s gzip JSON-lines file once and still found by id within the lookup window', async () => {
    const { keys, log, archiver } = setup();
    const day1 = [buildRecord({ evaluatedAt: '2026-12-01T23:59:59.000Z' })];
    const day2 = [buildRecord(), buildRecord()];
    await log.append([...day1, ...day2]);
    await log.append(day2); // a replayed group: stored once

    expect(await archiver.round()).toBe(3);
    expect(await archiver.round()).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['audit-2026-12-01.gate-1.jsonl.gz', 'audit-2026-12-02.gate-1.jsonl.gz']);
    expect(readArchive(dir).sort()).toEqual([...day1, ...day2].map((r) => r.json).sort());
    // Inside the lookup window: archived, not trimmed, readable through the index.
    expect(await redis.xlen(keys.auditStream())).toBe(3);
    expect(await log.get(day2[1]?.decisionId ?? '')).toBe(day2[1]?.json);
  });

  it('when records are past the lookup window, then archived ones are trimmed and unarchived ones are kept', async () => {
    let now = Date.now();
    const { keys, log, archiver } = setup({ now: () => now, lookupWindowMs: 1_000 });
    const archived = [buildRecord(), buildRecord(), buildRecord()];
    await log.append(archived);
    await archiver.round();
    const notYet = [buildRecord(), buildRecord()];
    await log.append(notYet);

    now += 60_000; // everything is past the window now
    await archiver.trim();
    const left = await redis.xrange(keys.auditStream(), '-', '+');
    expect(left.map(([, f]) => f[1])).toEqual(notYet.map((r) => r.decisionId));
    expect(await log.get(archived[0]?.decisionId ?? '')).toBeNull(); // past its window: 404

    await archiver.round();
    await archiver.trim();
    expect(await redis.xlen(keys.auditStream())).toBe(0);
    expect(readArchive(dir)).toHaveLength(5);
  });

  it('when entries were delivered to a consumer that died before acknowledging, then another takes them over and archives them', async () => {
    const { keys, log } = setup();
    const records = [buildRecord(), buildRecord()];
    await log.append(records);
    await redis.xgroup('CREATE', keys.auditStream(), 'archiver', '0', 'MKSTREAM');
    await redis.xreadgroup('GROUP', 'archiver', 'dead-replica', 'COUNT', 10, 'STREAMS', keys.auditStream(), '>');
    const taker = new AuditArchiver(redis, createLogger('silent'), {
      streamKey: keys.auditStream(),
      group: 'archiver',
      consumer: 'gate-2',
      dir,
      lookupWindowMs: DAY_MS,
      batch: 100,
      intervalMs: 1_000,
      claimIdleMs: 0,
    });
    expect(await taker.round()).toBe(2);
    expect(readArchive(dir).sort()).toEqual(records.map((r) => r.json).sort());
    expect(Number((await redis.xpending(keys.auditStream(), 'archiver'))[0])).toBe(0);
  });

  it('when 2000 decisions are stored, then Redis holds at most 1 KB per decision (stream entry plus index key, MEMORY USAGE)', async () => {
    const { keys, log } = setup();
    const records = Array.from({ length: 2_000 }, () => buildRecord());
    for (let i = 0; i < records.length; i += 500) await log.append(records.slice(i, i + 500));
    const streamBytes = Number(await redis.memory('USAGE', keys.auditStream(), 'SAMPLES', 0));
    let indexBytes = 0;
    for (const r of records.slice(0, 200)) indexBytes += Number(await redis.memory('USAGE', keys.decision(r.decisionId)));
    const perDecision = streamBytes / records.length + indexBytes / 200;
    expect(perDecision).toBeLessThanOrEqual(1_024);
  });
});
