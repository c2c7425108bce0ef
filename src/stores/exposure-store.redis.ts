import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';
import { exposureReason, type ExposureCode, type ReserveOutcome } from '../domain/exposure/limits.js';
import { positionLimitFor } from '../domain/exposure/policy.js';
import { applyFill, reconcile } from '../domain/exposure/positions.js';
import { emptyAccount, type AccountState } from '../domain/exposure/types.js';
import { COMMIT_SCRIPT, RESERVE_SCRIPT } from './exposure-scripts.js';
import { canonicalFill, fillFromCanonical, type ExposureStore, type ReconcileResult } from './exposure-store.js';
import type { RedisKeys } from './redis-keys.js';

/** The Redis commands the exposure store uses. */
export type ExposureRedis = Pick<RedisClient, 'evalsha' | 'eval' | 'hmget' | 'hget' | 'zrangebyscore' | 'sadd' | 'smembers'>;

/** How a write is made durable before the store resolves (durable-writes.ts); default: on `redis`, acknowledged by the primary. */
export interface ExposureWrites {
  write<T>(op: (conn: ExposureRedis) => Promise<T>): Promise<T>;
}

/** A compare-and-set that keeps losing to other writers gives up after this many tries (the caller answers 503). */
const MAX_CAS_TRIES = 20;

/** One script: EVALSHA, and EVAL once when Redis does not have it yet (a restart, a new Redis). */
function script(body: string) {
  const sha = createHash('sha1').update(body).digest('hex');
  return async (redis: ExposureRedis, keys: string[], args: (string | number)[]): Promise<unknown> => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return redis.eval(body, keys.length, ...keys, ...args);
    }
  };
}
const runReserve = script(RESERVE_SCRIPT);
const runCommit = script(COMMIT_SCRIPT);

/** cjson writes an empty array as {}; the state's lists are read back as arrays. */
function parseState(accountId: string, raw: string | null): AccountState {
  if (raw === null) return emptyAccount(accountId);
  const s = JSON.parse(raw) as AccountState;
  return {
    accountId,
    positions: s.positions && !Array.isArray(s.positions) ? s.positions : {},
    reservations: Array.isArray(s.reservations) ? s.reservations : [],
    reconciledAt: s.reconciledAt ?? null,
    lastOpeningAt: s.lastOpeningAt ?? null,
    reducing: s.reducing ?? null,
    realized: Array.isArray(s.realized) ? s.realized : [],
    approvals: Array.isArray(s.approvals) ? s.approvals : [],
  };
}

type RawReason = [ExposureCode, number | string | null, number | string | null];
const list = <T>(x: unknown): T[] => (Array.isArray(x) ? (x as T[]) : []);

/**
 * Exposure on Redis. Per account (hash tag `{acct:<id>}`): a hash with the state (JSON) and
 * its version, the recorded fills, and their times. `reserve` is one EVALSHA; fills,
 * reconciliations and releases read the state, compute it with the domain functions and
 * write it back with a compare-and-set script, retrying when another writer came between.
 */
export function createRedisExposureStore(
  redis: ExposureRedis,
  keys: RedisKeys,
  opts: { fillRetentionMs: number; writes?: ExposureWrites },
): ExposureStore {
  // Reads go on `redis`; every write (reserve, the compare-and-set commit, the account index) through `writes`.
  const writes: ExposureWrites = opts.writes ?? { write: (op) => op(redis) };
  const tagged = (id: string) => [keys.exposureState(id), keys.exposureFills(id), keys.exposureFillTimes(id)];
  /** Accounts this process has added to the known set since it started (or is adding). */
  const noted = new Set<string>();

  /**
   * Adds an account the gate reserved for to the known set, once per process and off the
   * request path: the set lives outside the account's hash slot (the script cannot touch it
   * on a Cluster), and the decision keeps its one round trip. A failed add is tried again
   * on the account's next reservation.
   */
  function noteKnown(id: string): void {
    if (noted.has(id)) return;
    noted.add(id);
    void redis.sadd(keys.exposureAccounts(), id).catch(() => noted.delete(id));
  }

  async function read(id: string): Promise<{ version: string; state: AccountState }> {
    const [v, s] = await redis.hmget(keys.exposureState(id), 'v', 's');
    return { version: v ?? '0', state: parseState(id, s ?? null) };
  }

  /** What a change says: write the (mutated) state back, or not, and what to answer. */
  type Change<T> = { write: boolean; result: T };

  /** Reads, changes and writes back unless someone wrote in between (then again, from the new state). */
  async function update<T>(id: string, change: (state: AccountState) => Change<T> | Promise<Change<T>>, fill?: { id: string; canonical: string; executedAt: number; cutoff: number }) {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const { version, state } = await read(id);
      const { write, result } = await change(state);
      if (!write) return { status: 'ok' as const, result };
      const status = (await writes.write((conn) => runCommit(conn, tagged(id), [
        version,
        JSON.stringify(state),
        fill?.id ?? '',
        fill?.canonical ?? '',
        fill?.executedAt ?? 0,
        fill?.cutoff ?? 0,
      ]))) as 'ok' | 'retry' | 'duplicate' | 'conflict';
      if (status !== 'retry') return { status, result };
    }
    throw new Error(`exposure: account ${id} kept changing under ${MAX_CAS_TRIES} attempts to write it`);
  }

  return {
    async get(id) {
      const [v, s] = await redis.hmget(keys.exposureState(id), 'v', 's');
      return v === null ? null : parseState(id, s ?? null);
    },
    async reserve(id, orders, ctx) {
      if (orders.length === 0) return [];
      const req = {
        accountId: id,
        now: ctx.now,
        ttl: ctx.reservationTtlMs,
        windowMs: ctx.maxLossWindowMs,
        maxAgeMs: ctx.positionsMaxAgeMs,
        requireConfirmed: ctx.requireConfirmedPositions,
        scale: ctx.scale,
        gross: ctx.limits.maxGrossNotionalUsd,
        net: ctx.limits.maxNetNotionalUsd,
        maxOpen: ctx.limits.maxOpenReservations,
        maxLoss: ctx.limits.maxLossUsd,
        maxOrders: ctx.limits.maxApprovedOrders,
        maxNotional: ctx.limits.maxApprovedNotionalUsd,
        approvalWindowMs: ctx.limits.approvalWindowMs,
        marks: ctx.marks,
        orders: orders.map((o) => ({
          decisionId: o.decisionId,
          symbol: o.symbol,
          side: o.side,
          quantity: o.quantity,
          price: o.price,
          reduceOnly: o.reduceOnly,
          step: o.quantityStep,
          posCap: positionLimitFor(ctx.limits, o.symbol),
        })),
      };
      // cjson would read an empty marks object as an array; a dummy key keeps it an object.
      if (Object.keys(ctx.marks).length === 0) req.marks = { '': 0 };
      const raw = (await writes.write((conn) => runReserve(conn, [keys.exposureState(id)], [JSON.stringify(req)]))) as string;
      noteKnown(id);
      const out = list<{ q: number; r: unknown; w: unknown; ra?: number }>(JSON.parse(raw));
      return orders.map((o, i): ReserveOutcome => {
        const x = out[i] ?? { q: 0, r: [], w: [] };
        const reason = ([code, limit, observed]: RawReason) => exposureReason(code, o, limit, observed);
        const outcome: ReserveOutcome = { decisionId: o.decisionId, quantity: x.q, reasons: list<RawReason>(x.r).map(reason), warnings: list<RawReason>(x.w).map(reason) };
        if (typeof x.ra === 'number') outcome.retryAfterMs = x.ra;
        return outcome;
      });
    },
    async applyFill(id, fill, now) {
      const canonical = canonicalFill(fill);
      let found = false;
      const { status } = await update(
        id,
        (state) => {
          found = applyFill(state, fill).reservationFound;
          return { write: true, result: null };
        },
        { id: fill.fillId, canonical, executedAt: fill.executedAt, cutoff: now - opts.fillRetentionMs },
      );
      if (status === 'duplicate' || status === 'conflict') return { status };
      await writes.write((conn) => conn.sadd(keys.exposureAccounts(), id));
      noted.add(id);
      return { status: 'applied', reservationFound: found };
    },
    async reconcile(id, asOf, positions) {
      // The account joins the known set first: a failure after the snapshot is applied would
      // answer 503 for a snapshot in force (an account known with no state is harmless).
      await writes.write((conn) => conn.sadd(keys.exposureAccounts(), id));
      const { result } = await update<ReconcileResult>(id, async (state) => {
        if (state.reconciledAt !== null && asOf < state.reconciledAt) return { write: false, result: { status: 'stale', reconciledAt: state.reconciledAt } };
        const ids = await redis.zrangebyscore(keys.exposureFillTimes(id), `(${asOf}`, '+inf');
        const bodies = ids.length > 0 ? await redis.hmget(keys.exposureFills(id), ...ids) : [];
        const later = bodies.filter((b): b is string => b !== null).map(fillFromCanonical);
        reconcile(state, asOf, positions, later);
        return { write: true, result: { status: 'applied', replayedFills: later.length } };
      });
      return result;
    },
    async release(id, decisionId) {
      const { result } = await update(id, (state) => {
        const kept = state.reservations.filter((r) => r.decisionId !== decisionId);
        if (kept.length === state.reservations.length) return { write: false, result: false };
        state.reservations = kept;
        return { write: true, result: true };
      });
      return result;
    },
    async resetReducing(id) {
      const { result } = await update(id, (state) => {
        if (!state.reducing) return { write: false, result: false };
        state.reducing = null;
        return { write: true, result: true };
      });
      return result;
    },
    async knownAccounts() {
      return (await redis.smembers(keys.exposureAccounts())).sort();
    },
  };
}
