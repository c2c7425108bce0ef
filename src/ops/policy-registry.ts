import type { RedisClient } from '../stores/redis-client.js';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { ReadinessCheck, ServiceModule } from '../modules/module.js';
import type { RedisKeys } from '../stores/redis-keys.js';
import { withTimeout } from '../lib/async.js';

const ANNOUNCE_EVERY_MS = 10_000;
const COMMAND_TIMEOUT_MS = 1_000;
const CHANGES_KEPT = 1_000;

/** This replica's policy version beside every live replica's, as GET /symbols shows it. */
export interface PolicyAgreement {
  version: string;
  /** Every live replica (this one included); null when the shared registry could not be read. */
  replicas: { instanceId: string; version: string }[] | null;
  /** Whether every live replica runs the same version; null when unknown (registry unreadable). */
  agree: boolean | null;
}

export interface PolicyChange {
  at: string;
  /** The replica that first ran the new version (the person who deployed it is in the deploy system). */
  by: string;
  oldVersion: string | null;
  newVersion: string;
}

/**
 * Which policy version each replica runs, for operators: every replica announces its
 * `policyVersion` in one hash with an expiry time it renews (a dead replica drops out;
 * readers ignore and remove expired entries: one HGETALL, never a keyspace scan),
 * and the first replica to run a version different from the last recorded one appends
 * {at, by, oldVersion, newVersion} to a capped stream. Its status check (in
 * /health/status, never in /health/ready) fails while live replicas disagree, as during
 * a rolling upgrade that changes the policy. With the memory store there is one replica.
 */
export function createPolicyRegistry(opts: {
  redis: RedisClient | null;
  keys: RedisKeys;
  instanceId: string;
  version: string;
  clock: Clock;
  logger: Logger;
}): ServiceModule & {
  replicas(): Promise<{ instanceId: string; version: string }[]>;
  agreement(): Promise<PolicyAgreement>;
  changes(): Promise<PolicyChange[]>;
} {
  const { redis, keys, instanceId, version } = opts;
  const log = opts.logger.child({ component: 'policy-registry' });
  let timer: NodeJS.Timeout | null = null;
  const run = <T>(what: string, p: Promise<T>) => withTimeout(p, COMMAND_TIMEOUT_MS, `redis ${what}`);

  const announce = async (r: RedisClient) => {
    const entry = JSON.stringify({ version, expiresAt: opts.clock() + 3 * ANNOUNCE_EVERY_MS });
    await run('hset', r.hset(keys.policyReplicas(), instanceId, entry));
  };

  const replicas = async (): Promise<{ instanceId: string; version: string }[]> => {
    if (!redis) return [{ instanceId, version }];
    const all = await run('hgetall', redis.hgetall(keys.policyReplicas()));
    const now = opts.clock();
    const live: { instanceId: string; version: string }[] = [];
    const expired: string[] = [];
    for (const [id, json] of Object.entries(all)) {
      let e: { version?: unknown; expiresAt?: unknown } = {};
      try {
        e = JSON.parse(json) as typeof e;
      } catch {
        // unreadable: treated as expired
      }
      if (typeof e.version === 'string' && typeof e.expiresAt === 'number' && e.expiresAt > now) live.push({ instanceId: id, version: e.version });
      else expired.push(id);
    }
    if (expired.length > 0) await run('hdel', redis.hdel(keys.policyReplicas(), ...expired)).catch(() => undefined);
    return live.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  };

  return {
    name: 'policy',
    registerRoutes: () => undefined,
    async start() {
      if (!redis || timer) return;
      const previous = await run('set', redis.set(keys.policyCurrent(), version, 'GET'));
      if (previous !== version) {
        const change: PolicyChange = { at: new Date(opts.clock()).toISOString(), by: instanceId, oldVersion: previous, newVersion: version };
        await run(
          'xadd',
          redis.xadd(keys.policyChanges(), 'MAXLEN', '~', String(CHANGES_KEPT), '*', 'change', JSON.stringify(change)),
        );
        log.info(change, 'policy version changed');
      }
      await announce(redis);
      const loop = () => {
        timer = setTimeout(() => {
          announce(redis)
            .catch((err: Error) => log.debug({ err: err.message }, 'policy announce failed'))
            .finally(() => {
              if (timer) loop();
            });
        }, ANNOUNCE_EVERY_MS);
        timer.unref();
      };
      loop();
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (redis) await run('hdel', redis.hdel(keys.policyReplicas(), instanceId)).catch(() => undefined);
    },
    async readiness(): Promise<ReadinessCheck[]> {
      const all = await replicas();
      const versions = [...new Set(all.map((r) => r.version))];
      if (versions.length <= 1) return [{ name: 'policy-agreement', ok: true }];
      return [
        {
          name: 'policy-agreement',
          ok: false,
          detail: `replicas run different policy versions: ${all.map((r) => `${r.instanceId}=${r.version}`).join(', ')}`,
        },
      ];
    },
    replicas,
    async agreement(): Promise<PolicyAgreement> {
      try {
        const all = await replicas();
        return { version, replicas: all, agree: new Set(all.map((r) => r.version)).size <= 1 };
      } catch (err) {
        // A status page must not fail on the registry; the unknown is shown as unknown.
        log.debug({ err: (err as Error).message }, 'policy registry unreadable');
        return { version, replicas: null, agree: null };
      }
    },
    async changes(): Promise<PolicyChange[]> {
      if (!redis) return [];
      const entries = await run('xrevrange', redis.xrevrange(keys.policyChanges(), '+', '-', 'COUNT', 20));
      return entries.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as PolicyChange);
    },
  };
}
