import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fill } from '../../../src/domain/posttrade/types.js';
import { createLogger } from '../../../src/logger.js';
import { createExposureWriteJournal, type ExposureWriteJournal } from '../../../src/modules/exposure/write-journal.js';
import type { ExposureStore } from '../../../src/stores/exposure-store.js';
import { createMemoryExposureStore } from '../../../src/stores/exposure-store.memory.js';
import { createMemoryPosttradeStore, type PosttradeStore, type StoredFill } from '../../../src/stores/posttrade-store.js';
import { waitUntil } from '../../helpers/redis-server.js';

/*
 * The exposure journal's index of journaled fills (fillId -> body hash), which lets the
 * fill intake refuse a conflicting resend while Redis cannot: kept as fills are journaled,
 * rebuilt from the segments at the next start, dropped once they are replayed.
 */

const T = Date.UTC(2026, 10, 24, 11, 30);

function storedFill(fillId: string, hash: string, overrides: Partial<Fill> = {}): StoredFill {
  return {
    fill: { fillId, decisionId: null, accountId: 'acct', symbol: 'BTCUSDT', side: 'buy', quantity: 1, price: 100_000, ts: T, fee: null, reducesPosition: null, ...overrides },
    hash,
    dueAt: T + 60_000,
    context: null,
  };
}

const down = (): Promise<never> => Promise.reject(new Error('redis down'));

/** Stores whose every write fails, as while Redis is down. */
function storesDown(): { posttrade: PosttradeStore; exposure: ExposureStore } {
  const posttrade = createMemoryPosttradeStore(86_400_000, () => T);
  const exposure = createMemoryExposureStore({ fillRetentionMs: 86_400_000 });
  return { posttrade: { ...posttrade, addFill: down }, exposure: { ...exposure, applyFill: down, release: down } };
}

describe('the exposure journal index of journaled fills', () => {
  let dir: string;
  const open: ExposureWriteJournal[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'liq-gate-write-journal-'));
  });
  afterEach(async () => {
    for (const j of open.splice(0)) await j.stop(Date.now() + 1_000);
    rmSync(dir, { recursive: true, force: true });
  });

  const journal = (stores: { posttrade: PosttradeStore; exposure: ExposureStore }, instanceId = 'gate-a', orphanMs = 60_000) => {
    const j = createExposureWriteJournal({ dir, instanceId, orphanMs, commitTimeoutMs: 200, ...stores, logger: createLogger('silent') });
    open.push(j);
    j.start();
    return j;
  };

  it('when a fill is journaled, then its body hash is held, and a fillId never journaled is not', async () => {
    const j = journal(storesDown());
    await j.record({ kind: 'fill', stored: storedFill('f-1', 'hash-1'), now: T });
    expect(j.journaling()).toBe(true);
    expect(j.journaledFill('f-1')).toEqual({ hash: 'hash-1', durable: true });
    expect(j.journaledFill('f-other')).toBeNull();
  });

  it('when the same fillId is journaled twice with different bodies, then the first is held (the one a replay applies)', async () => {
    const j = journal(storesDown());
    await j.record({ kind: 'fill', stored: storedFill('f-1', 'hash-first'), now: T });
    await j.record({ kind: 'fill', stored: storedFill('f-1', 'hash-second', { quantity: 2 }), now: T });
    expect(j.journaledFill('f-1')).toEqual({ hash: 'hash-first', durable: true });
  });

  it('when the service restarts with fills still journaled, then the index is rebuilt from the segments', async () => {
    const before = journal(storesDown());
    await before.record({ kind: 'fill', stored: storedFill('f-1', 'hash-1'), now: T });
    await before.record({ kind: 'release', accountId: 'acct', decisionId: 'd-1' });
    await before.record({ kind: 'fill', stored: storedFill('f-2', 'hash-2'), now: T });
    await open.splice(0)[0]!.stop(Date.now() + 1_000);

    const after = journal(storesDown());
    await after.ready();
    expect(after.journaledFill('f-1')).toEqual({ hash: 'hash-1', durable: true });
    expect(after.journaledFill('f-2')).toEqual({ hash: 'hash-2', durable: true });
  });

  it('when the journal is replayed into the stores, then its fills are dropped from the index (the store answers for them)', async () => {
    const before = journal(storesDown());
    await before.record({ kind: 'fill', stored: storedFill('f-1', 'hash-1'), now: T });
    await open.splice(0)[0]!.stop(Date.now() + 1_000);

    const posttrade = createMemoryPosttradeStore(86_400_000, () => T);
    const after = journal({ posttrade, exposure: createMemoryExposureStore({ fillRetentionMs: 86_400_000 }) });
    await waitUntil(async () => (await posttrade.getFill('f-1')) !== null && after.journaledFill('f-1') === null, 10_000, 'the journal replayed');
    expect((await posttrade.getFill('f-1'))?.hash).toBe('hash-1');
  });

  it('when another replica claims the journal of one that is gone, then the fills in it are held by the claimer', async () => {
    const gone = journal(storesDown(), 'gate-gone');
    await gone.record({ kind: 'fill', stored: storedFill('f-orphan', 'hash-orphan'), now: T });
    await open.splice(0)[0]!.stop(Date.now() + 1_000);

    const claimer = journal(storesDown(), 'gate-b', 1);
    await waitUntil(async () => claimer.journaledFill('f-orphan') !== null, 10_000, 'the orphaned journal claimed');
    expect(claimer.journaledFill('f-orphan')).toEqual({ hash: 'hash-orphan', durable: true });
  });
});
