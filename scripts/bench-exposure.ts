/**
 * Latency of the exposure check-and-reserve on Redis (one EVALSHA per decision, one per batch).
 *
 *   npm run bench:exposure [-- --decisions 2000 --open 50 --batch 20]
 *
 * Sequential decisions against REDIS_URL (or 127.0.0.1:6379) under a random key prefix,
 * deleted afterwards. Each account holds `--open` open reservations on two symbols (the
 * script's work grows with them); reported: p50/p99 of one decision and of a batch.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { ReserveOrder } from '../src/domain/exposure/limits.js';
import { createRedisExposureStore } from '../src/stores/exposure-store.redis.js';
import { redisKeys } from '../src/stores/redis-keys.js';
import { buildContext, buildLimits } from '../test/domain/exposure/factories.js';
import { deletePrefix } from '../test/helpers/redis.js';

const { values } = parseArgs({ options: { decisions: { type: 'string', default: '2000' }, open: { type: 'string', default: '50' }, batch: { type: 'string', default: '20' } } });
const decisions = Number(values.decisions);
const open = Number(values.open);
const batch = Number(values.batch);
const prefix = `bench-exposure-${randomUUID().slice(0, 8)}:`;
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const store = createRedisExposureStore(redis, redisKeys(prefix), { fillRetentionMs: 86_400_000 });
// Limits high enough that every reservation is taken: what is measured is the work, not a refusal.
const ctx = buildContext({
  now: Date.now(),
  limits: buildLimits({ maxOpenReservations: 100_000, maxGrossNotionalUsd: 1e13, maxNetNotionalUsd: 1e13, maxPositionNotionalUsd: 1e13 }),
});
const order = (i: number): ReserveOrder => ({ decisionId: randomUUID(), symbol: i % 2 ? 'BTCUSDT' : 'ETHUSDT', side: i % 3 ? 'buy' : 'sell', quantity: 0.01, price: i % 2 ? 100_000 : 4_000, reduceOnly: false, quantityStep: 0 });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

try {
  await store.reserve('warm', [order(0)], ctx);
  const single: number[] = [];
  for (let i = 0; i < decisions; i++) {
    const account = `acct-${Math.floor(i / open)}`;
    const t = performance.now();
    await store.reserve(account, [order(i)], ctx);
    single.push(performance.now() - t);
  }
  const batches: number[] = [];
  for (let i = 0; i < Math.max(1, decisions / batch / 4); i++) {
    const t = performance.now();
    await store.reserve(`batch-${i}`, Array.from({ length: batch }, (_, k) => order(k)), ctx);
    batches.push(performance.now() - t);
  }
  console.log(`decisions ${decisions}, up to ${open} open reservations per account: p50 ${pct(single, 50).toFixed(3)} ms, p99 ${pct(single, 99).toFixed(3)} ms`);
  console.log(`batches of ${batch} (${batches.length}): p50 ${pct(batches, 50).toFixed(3)} ms, p99 ${pct(batches, 99).toFixed(3)} ms`);
} finally {
  await deletePrefix(redis, prefix);
  await redis.quit();
}
