import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/app.js';
import { configFromEnv } from '../helpers/config.js';
import { createLogger } from '../../src/logger.js';
import { createMarketSource } from '../../src/market/index.js';
import type { MarketSource } from '../../src/market/market-source.js';
import type { AppInstance } from '../../src/modules/module.js';
import { bearer, TEST_API_KEYS, TEST_KEYS } from '../helpers/app.js';
import { deletePrefix, randomPrefix, testRedisUrl } from '../helpers/redis.js';
import { servedVersion } from '../helpers/observe.js';
import { waitUntil } from '../helpers/redis-server.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
// Short enough for quick takeovers, long enough that a loaded CI machine (two suites on two cores)
// does not miss a renewal and hand the lease over mid-test.
const LEASE_TTL_MS = 3_000;

/** Counts, per symbol, the market calls one replica makes (to prove only the leader polls). */
function counting(inner: MarketSource) {
  const ticks = new Map<string, number>();
  const source: MarketSource = {
    name: inner.name,
    venues: (s) => inner.venues(s),
    fetchBars: (s, v, since) => inner.fetchBars(s, v, since),
    fetchTick: (s, v) => {
      ticks.set(s, (ticks.get(s) ?? 0) + 1);
      return inner.fetchTick(s, v);
    },
    close: () => inner.close(),
  };
  return { source, ticks };
}

interface Replica {
  id: string;
  app: AppInstance;
  redis: Redis;
  ticks: Map<string, number>;
  closed: boolean;
  close(): Promise<void>;
}

/** One app instance as a replica: its own Redis client and simulator, the shared key prefix. */
async function startReplica(id: string, prefix: string): Promise<Replica> {
  const config = configFromEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    API_KEYS: TEST_API_KEYS,
    SYMBOLS: SYMBOLS.join(','),
    STORE: 'redis',
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: prefix,
    INSTANCE_ID: id,
    LEASE_TTL_MS: String(LEASE_TTL_MS),
    POLL_INTERVAL_MS: '250',
    HEATMAP_MAX_AGE_MS: '5000',
  });
  const logger = createLogger('silent');
  const clock = () => Date.now();
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const sim = await createMarketSource({ ...config.market }, { clock, logger });
  const { source, ticks } = counting(sim);
  const app = await buildApp(config, { clock, logger, redis, marketSource: source });
  await app.ready();
  await app.started;
  const replica: Replica = {
    id,
    app,
    redis,
    ticks,
    closed: false,
    close: async () => {
      if (replica.closed) return;
      replica.closed = true;
      await app.close();
      await sim.close();
      redis.disconnect();
    },
  };
  return replica;
}

interface SymbolRow {
  symbol: string;
  polling: boolean;
  leader: string | null;
  version: number | null;
  lastSuccessAt: string | null;
  venueStatus: { venue: string; state: string }[];
}

async function symbolsOf(r: Replica): Promise<Record<string, SymbolRow>> {
  const res = await r.app.inject({ method: 'GET', url: '/symbols', headers: bearer(TEST_KEYS.read) });
  const rows = res.json<{ symbols: SymbolRow[] }>().symbols;
  return Object.fromEntries(rows.map((row) => [row.symbol, row]));
}

const versionOf = async (r: Replica, s: string) => (await servedVersion(r.app, s)) ?? 0;

describe('several replicas on one Redis', () => {
  let prefix: string;
  let a: Replica;
  let b: Replica;
  let admin: Redis;

  beforeEach(async () => {
    prefix = randomPrefix('replicas');
    admin = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    [a, b] = await Promise.all([startReplica('replica-a', prefix), startReplica('replica-b', prefix)]);
    await waitUntil(async () => (await Promise.all(SYMBOLS.flatMap((s) => [versionOf(a, s), versionOf(b, s)]))).every((v) => v > 0), 15_000, 'heatmaps on both replicas');
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('when both run, then exactly one polls each symbol, both name it, and both serve the same version', async () => {
    // A follower learns the leader at its first lease attempt, which may come after the
    // leader's first map reached it over pub/sub.
    let sa: Record<string, SymbolRow> = {};
    let sb: Record<string, SymbolRow> = {};
    await waitUntil(
      async () => {
        [sa, sb] = await Promise.all([symbolsOf(a), symbolsOf(b)]);
        return SYMBOLS.every((s) => sa[s]!.leader !== null && sb[s]!.leader !== null);
      },
      10_000,
      'both replicas naming a leader for every symbol',
    );
    for (const s of SYMBOLS) {
      const leader = sa[s]!.leader;
      expect(['replica-a', 'replica-b']).toContain(leader);
      expect(sb[s]!.leader).toBe(leader);
      expect([sa[s]!.polling, sb[s]!.polling].filter(Boolean)).toHaveLength(1);
      const [lead, follow] = leader === 'replica-a' ? [a, b] : [b, a];
      expect(lead.ticks.get(s) ?? 0).toBeGreaterThan(0);
      expect(follow.ticks.get(s) ?? 0).toBe(0);
    }
    // The follower shows the leader's own account of the poll (posted to Redis), not an empty one.
    for (const s of SYMBOLS) {
      const follower = sa[s]!.polling ? b : a;
      await waitUntil(async () => (await symbolsOf(follower))[s]!.lastSuccessAt !== null, 10_000, `leader status of ${s} on the follower`);
      expect((await symbolsOf(follower))[s]!.venueStatus.map((v) => v.state)).toEqual(['closed', 'closed', 'closed']);
    }
    // Versions move every poll; the follower catches up through pub/sub: wait for an instant they agree over HTTP.
    for (const s of SYMBOLS) {
      await waitUntil(
        async () => {
          const [ra, rb] = await Promise.all(
            [a, b].map((r) => r.app.inject({ method: 'GET', url: `/heatmap/${s}`, headers: bearer(TEST_KEYS.read) })),
          );
          return ra!.statusCode === 200 && ra!.headers.etag === rb!.headers.etag;
        },
        10_000,
        `same version of ${s} on both replicas`,
      );
    }
  });

  it('when the leader shuts down, then the other replica takes the symbol over and keeps it fresh', async () => {
    const leaderId = (await symbolsOf(a)).BTCUSDT!.leader;
    const [lead, follow] = leaderId === 'replica-a' ? [a, b] : [b, a];
    const before = await versionOf(follow, 'BTCUSDT');
    const started = Date.now();
    await lead.close();
    await waitUntil(async () => (await symbolsOf(follow)).BTCUSDT!.polling, 5 * LEASE_TTL_MS, 'takeover after shutdown');
    const tookOverMs = Date.now() - started;
    await waitUntil(async () => (await versionOf(follow, 'BTCUSDT')) > before + 1, 5_000, 'new heatmaps from the new leader');
    expect((follow.ticks.get('BTCUSDT') ?? 0)).toBeGreaterThan(0);
    console.info(`takeover after a clean shutdown: ${tookOverMs} ms (lease ttl ${LEASE_TTL_MS} ms)`);
  });

  it('when the leader dies without releasing its lease, then the other replica takes over once the lease expires', async () => {
    const leaderId = (await symbolsOf(a)).BTCUSDT!.leader;
    const [lead, follow] = leaderId === 'replica-a' ? [a, b] : [b, a];
    const before = await versionOf(follow, 'BTCUSDT');
    const started = Date.now();
    // A crash as Redis sees it: the leader's connection is gone, so it can neither renew nor release.
    lead.redis.disconnect();
    await waitUntil(async () => (await symbolsOf(follow)).BTCUSDT!.polling, 5 * LEASE_TTL_MS, 'takeover after the lease expired');
    const tookOverMs = Date.now() - started;
    await waitUntil(async () => (await versionOf(follow, 'BTCUSDT')) > before + 1, 5_000, 'new heatmaps from the new leader');
    // The dead leader could no longer write: every version since came from the new leader's token.
    expect(await admin.get(`${prefix}poll:{BTCUSDT}:lease`)).toMatch(new RegExp(`^${follow.id}#`));
    console.info(`takeover after a crash: ${tookOverMs} ms (lease ttl ${LEASE_TTL_MS} ms)`);
  });
});
