import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import fc from 'fast-check';
import { createMemoryAuditLog, type AuditLog } from '../../src/stores/audit-log.js';
import { createRedisAuditLog, recordFromFields } from '../../src/stores/audit-log.redis.js';
import { createMemoryIdempotencyStore, type IdempotencyStore } from '../../src/stores/idempotency-store.js';
import { createRedisIdempotencyStore } from '../../src/stores/idempotency-store.redis.js';
import { createMemoryTradingStateStore, type TradingStateStore } from '../../src/stores/trading-state-store.js';
import { createRedisTradingStateStore, INITIALISED_FIELD } from '../../src/stores/trading-state-store.redis.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { deletePrefix, randomPrefix, rawRedis } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = randomPrefix('pt-store');
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
});

const entry = (hash: string, decisionId = 'd-1') => ({ hash, response: { decisionId } });

describe.each([
  ['memory', () => createMemoryIdempotencyStore(() => Date.now())],
  ['redis', () => createRedisIdempotencyStore(redis)],
] as [string, () => IdempotencyStore][])('idempotency store (%s)', (_kind, make) => {
  it('when a key is new, then the entry is stored and null returned; later writers get the first entry', async () => {
    const store = make();
    const key = `${prefix}idem:a/1`;
    expect(await store.putIfAbsent(key, entry('h1', 'first'), 60_000)).toBeNull();
    expect(await store.putIfAbsent(key, entry('h2', 'second'), 60_000)).toEqual(entry('h1', 'first'));
  });

  it('when many writers race on one key, then exactly one wins', async () => {
    const store = make();
    const key = `${prefix}idem:a/race`;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.putIfAbsent(key, entry(`h${i}`), 60_000)));
    expect(results.filter((r) => r === null)).toHaveLength(1);
  });
});

describe('memory idempotency store', () => {
  it('when the TTL has passed, then the key is free again', async () => {
    let now = 1_000;
    const store = createMemoryIdempotencyStore(() => now);
    await store.putIfAbsent('k', entry('h1'), 500);
    now += 499;
    expect(await store.putIfAbsent('k', entry('h2'), 500)).toEqual(entry('h1'));
    now += 1;
    expect(await store.putIfAbsent('k', entry('h2'), 500)).toBeNull();
  });
});

describe('memory idempotency store as the local store', () => {
  it('when a record is live, then peek finds it with its expiry, and no longer once the TTL has passed', async () => {
    let now = 1_000;
    const store = createMemoryIdempotencyStore(() => now);
    await store.putIfAbsent('k', entry('h1'), 500);
    expect(store.peek('k')).toEqual({ entry: entry('h1'), expiresAt: 1_500 });
    expect(store.peek('other')).toBeUndefined();
    now = 1_500;
    expect(store.peek('k')).toBeUndefined();
  });

  it('when live() is read, then it lists the live records and drops the expired ones', async () => {
    let now = 1_000;
    const store = createMemoryIdempotencyStore(() => now);
    await store.putIfAbsent('old', entry('h1'), 100);
    await store.putIfAbsent('new', entry('h2'), 1_000);
    now = 1_100;
    expect(store.live()).toEqual([['new', { entry: entry('h2'), expiresAt: 2_000 }]]);
    expect(store.size()).toBe(1);
  });

  it('when remove is given the entry the key holds, then the key is freed; given another, the key is kept', async () => {
    const store = createMemoryIdempotencyStore(() => 1_000);
    const first = entry('h1');
    await store.putIfAbsent('k', first, 500);
    store.remove('k', entry('h1')); // equal, but not the record stored: kept
    expect(store.peek('k')?.entry).toBe(first);
    store.remove('k', first);
    expect(store.peek('k')).toBeUndefined();
    expect(store.size()).toBe(0);
  });
});

describe('redis idempotency store', () => {
  it('when an entry is stored, then it carries the TTL', async () => {
    const key = `${prefix}idem:ttl`;
    await createRedisIdempotencyStore(redis).putIfAbsent(key, entry('h'), 30_000);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });
});

const auditEntry = (n: number) => ({ decisionId: `d${n}`, json: JSON.stringify({ decisionId: `d${n}`, n }) });

describe('audit log', () => {
  it('memory: when more than maxEntries are appended, then the oldest are dropped and the newest kept', async () => {
    const log = createMemoryAuditLog(3);
    await log.append([1, 2, 3, 4, 5].map(auditEntry));
    expect(log.entries().map((r) => r.decisionId)).toEqual(['d3', 'd4', 'd5']);
    expect(await log.get('d1')).toBeNull();
    expect(await log.get('d5')).toBe(auditEntry(5).json);
  });

  it('memory: for any sequence of records, what is kept is the newest maxEntries of them, unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ minLength: 0, maxLength: 60, unit: 'grapheme' }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 50 }),
        async (bodies, maxEntries) => {
          const log = createMemoryAuditLog(maxEntries);
          const all = bodies.map((b, i) => ({ decisionId: `d${i}`, json: JSON.stringify(b) }));
          for (const e of all) await log.append([e]);
          expect(log.entries()).toEqual(all.slice(-maxEntries));
          const last = all[all.length - 1]!;
          expect(await log.get(last.decisionId)).toBe(last.json);
        },
      ),
    );
  });

  it('redis: when a batch is appended, then the stream holds it in order and each decision is readable by id', async () => {
    const keys = redisKeys(prefix);
    const log: AuditLog = createRedisAuditLog(redis, {
      streamKey: keys.auditStream(),
      decisionKey: (id) => keys.decision(id),
      maxLen: 1_000,
      decisionTtlMs: 10_000,
    });
    await log.append([1, 2, 3].map(auditEntry));
    const entries = await redis.xrangeBuffer(keys.auditStream(), '-', '+');
    expect(entries.map(([, f]) => recordFromFields(f))).toEqual([1, 2, 3].map(auditEntry));
    expect(await log.get('d2')).toBe(auditEntry(2).json);
    expect(await log.get('nope')).toBeNull();
    const ttl = await redis.pttl(keys.decision('d2'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });
});

const tsEntry = (state: 'ACTIVE' | 'REDUCING' | 'HALTED', updatedBy = 'ops') => ({
  state,
  reason: 'because',
  updatedBy,
  updatedAt: '2026-01-06T11:00:00.000Z',
});

const redisTradingState = () => {
  const keys = redisKeys(prefix);
  return createRedisTradingStateStore(redis, {
    hashKey: keys.tradingState(),
    channel: keys.tradingStateChannel(),
    appliedKey: keys.tradingStateApplied(),
  });
};

describe.each([
  ['memory', () => createMemoryTradingStateStore()],
  ['redis', redisTradingState],
] as [string, () => TradingStateStore][])('trading-state store (%s)', (_kind, make) => {
  it('when global and symbol states are set, then load returns both, the latest per scope, and the store is initialised', async () => {
    const store = make();
    await store.set(null, tsEntry('REDUCING'));
    await store.set('BTCUSDT', tsEntry('HALTED'));
    await store.set('BTCUSDT', tsEntry('ACTIVE', 'other'));
    expect(await store.load()).toEqual({
      initialised: true,
      version: 3,
      global: tsEntry('REDUCING'),
      symbols: { BTCUSDT: tsEntry('ACTIVE', 'other') },
    });
  });

  it('when states are set, then each write answers the next version, and a replica is live with the version it acknowledged last', async () => {
    const store = make();
    expect(await store.set(null, tsEntry('ACTIVE'))).toBe(1);
    expect(await store.set('BTCUSDT', tsEntry('HALTED'))).toBe(2);
    await store.acknowledge('a#1', 1);
    await store.acknowledge('b#1', 1);
    await store.acknowledge('a#1', 2);
    const acks = await store.acknowledgements(60_000);
    expect(acks.sort((x, y) => x.replica.localeCompare(y.replica))).toEqual([
      { replica: 'a#1', version: 2 },
      { replica: 'b#1', version: 1 },
    ]);
  });

  it('when a replica stops acknowledging for longer than the live window, then it is no longer listed', async () => {
    const store = make();
    await store.acknowledge('gone#1', 1);
    await new Promise((r) => setTimeout(r, 30));
    await store.acknowledge('live#1', 1);
    expect(await store.acknowledgements(20)).toEqual([{ replica: 'live#1', version: 1 }]);
  });

  it('when a state is set, then subscribers hear of it', async () => {
    const writer = make();
    const heard = vi.fn();
    const unsubscribe = await writer.subscribe(heard);
    try {
      await writer.set(null, tsEntry('HALTED'));
      await vi.waitFor(() => expect(heard).toHaveBeenCalled());
    } finally {
      await unsubscribe();
    }
  });
});

describe('redis trading-state store announcements', () => {
  const subscriberIds = async (): Promise<Set<string>> => {
    const list = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    return new Set([...list.matchAll(/^id=(\d+) /gm)].map((m) => m[1] as string));
  };

  it('when the subscriber connection is lost and re-established, then the listener is called again (announcements meanwhile were lost)', async () => {
    const before = await subscriberIds();
    const heard = vi.fn();
    const unsubscribe = await redisTradingState().subscribe(heard);
    try {
      const ours = [...(await subscriberIds())].filter((id) => !before.has(id));
      expect(ours).toHaveLength(1);
      expect(heard).not.toHaveBeenCalled();
      await redis.call('CLIENT', 'KILL', 'ID', ours[0] as string);
      await vi.waitFor(() => expect(heard).toHaveBeenCalled(), { timeout: 5_000 });
    } finally {
      await unsubscribe();
    }
  });
});

describe('trading-state store initialisation', () => {
  it('when the memory store is new, then it is initialised and empty: the demo starts ACTIVE', async () => {
    expect(await createMemoryTradingStateStore().load()).toEqual({ initialised: true, version: 0, global: null, symbols: {} });
  });

  it('when a Redis store is new, then it is not initialised: no key is not the same as ACTIVE', async () => {
    expect(await redisTradingState().load()).toEqual({ initialised: false, version: 0, global: null, symbols: {} });
  });

  it('when only a symbol was set on a Redis store, then it is still not initialised: only a global setting initialises it', async () => {
    const store = redisTradingState();
    await store.set('BTCUSDT', tsEntry('ACTIVE'));
    expect(await store.load()).toMatchObject({ initialised: false, symbols: { BTCUSDT: tsEntry('ACTIVE') } });
  });

  it('when the keys of an initialised Redis store vanish, then it reads as not initialised again', async () => {
    const store = redisTradingState();
    await store.set(null, tsEntry('ACTIVE'));
    expect((await store.load()).initialised).toBe(true);
    await deletePrefix(redis, prefix);
    expect(await store.load()).toEqual({ initialised: false, version: 0, global: null, symbols: {} });
  });

  it('when a global setting is written again, then the first initialisation is kept', async () => {
    const store = redisTradingState();
    await store.set(null, tsEntry('ACTIVE', 'first'));
    await store.set(null, tsEntry('HALTED', 'second'));
    const marker = await redis.hget(redisKeys(prefix).tradingState(), INITIALISED_FIELD);
    expect(JSON.parse(marker ?? 'null')).toEqual({ by: 'first', at: tsEntry('ACTIVE').updatedAt });
  });
});

describe('redis trading-state store with invalid entries', () => {
  it('when a stored entry is hand-written in lower case or is not JSON, then its scope loads as HALTED with a reason saying it was invalid, and it is reported', async () => {
    const keys = redisKeys(prefix);
    const invalid: [string, string][] = [];
    const store = createRedisTradingStateStore(redis, {
      hashKey: keys.tradingState(),
      channel: keys.tradingStateChannel(),
      appliedKey: keys.tradingStateApplied(),
      onInvalid: (field, stored) => invalid.push([field, stored]),
    });
    await store.set('ETHUSDT', tsEntry('REDUCING'));
    await redis.hset(keys.tradingState(), '*', JSON.stringify({ ...tsEntry('ACTIVE'), state: 'halted' }));
    await redis.hset(keys.tradingState(), 'BTCUSDT', '{garbage');

    const snap = await store.load();
    expect(snap.global).toMatchObject({ state: 'HALTED', updatedBy: 'ops', updatedAt: tsEntry('ACTIVE').updatedAt });
    expect(snap.global?.reason).toMatch(/^INVALID stored trading-state entry \(state: /);
    expect(snap.symbols.BTCUSDT).toMatchObject({ state: 'HALTED', updatedBy: null, updatedAt: null });
    expect(snap.symbols.BTCUSDT?.reason).toContain('not JSON');
    expect(snap.symbols.ETHUSDT).toEqual(tsEntry('REDUCING'));
    expect(invalid.map(([f]) => f).sort()).toEqual(['*', 'BTCUSDT']);
  });
});
