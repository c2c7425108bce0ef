import type { RedisClient } from './redis-client.js';

/**
 * Where a store sends the writes that must be durable before the service answers, and the
 * wait that makes them so (AUDIT_DURABILITY):
 * - `primary`: the write on the shared client; Redis acknowledging it is enough (with
 *   `appendfsync always` it has fsynced its AOF first).
 * - `replica`: the write on a connection of its own, then `WAIT replicas timeoutMs`. WAIT
 *   covers the writes sent earlier on the connection it is sent on, and blocks that
 *   connection meanwhile, hence the dedicated one. Concurrent writers share WAITs (a group
 *   commit): a caller joins the next WAIT sent after its write was acknowledged, so at most
 *   one WAIT is in flight and one is queued, whatever the load. A WAIT that sees fewer
 *   replicas in time rejects: the write is on the primary but not durable, and the caller
 *   must not answer as if it were (journal it, or refuse).
 */
export interface DurableWrites {
  readonly mode: 'primary' | 'replica';
  /** Runs `op` on the durable connection and resolves with its result once it is durable. */
  write<T>(op: (conn: RedisClient) => Promise<T>): Promise<T>;
  /** Closes the dedicated connection, if any (the shared client stays its owner's). */
  close(): Promise<void>;
}

export class ReplicaAckError extends Error {
  constructor(acked: number, replicas: number, timeoutMs: number) {
    super(`write acknowledged by ${acked} of ${replicas} replicas within ${timeoutMs} ms`);
    this.name = 'ReplicaAckError';
  }
}

/** Durable once the primary acknowledged (its AOF policy decides the rest). */
export function primaryWrites(redis: RedisClient): DurableWrites {
  return { mode: 'primary', write: (op) => op(redis), close: async () => {} };
}

/** Durable once `replicas` replicas acknowledged within `timeoutMs` (WAIT on a dedicated connection). */
export function replicaWrites(redis: RedisClient, opts: { replicas: number; timeoutMs: number }): DurableWrites {
  const conn = redis.duplicate();
  conn.on('error', () => {}); // the shared client logs connection errors
  let inFlight: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  const waitOnce = async (): Promise<void> => {
    const acked = Number(await conn.wait(opts.replicas, opts.timeoutMs));
    if (acked < opts.replicas) throw new ReplicaAckError(acked, opts.replicas, opts.timeoutMs);
  };
  /** A WAIT sent after this call: it covers every write acknowledged before the call. */
  const confirm = (): Promise<void> => {
    if (!inFlight) {
      inFlight = waitOnce().finally(() => {
        inFlight = null;
      });
      return inFlight;
    }
    queued ??= inFlight
      .catch(() => {})
      .then(() => {
        queued = null;
        return confirm();
      });
    return queued;
  };

  return {
    mode: 'replica',
    write: async (op) => {
      const result = await op(conn);
      await confirm();
      return result;
    },
    close: async () => {
      await conn.quit().catch(() => conn.disconnect());
    },
  };
}
