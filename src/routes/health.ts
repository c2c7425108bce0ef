import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { withTimeout } from '../lib/async.js';
import type { AppInstance, ReadinessCheck, ServiceModule } from '../modules/module.js';

/**
 * Three health endpoints for three consumers (docs/operations.md, "Health"):
 * - /health/live: the process answers HTTP (container restart policy, Docker HEALTHCHECK).
 * - /health/ready: this replica can answer, i.e. decide (even if it can only reject) and
 *   serve the admin routes: startup finished and not shutting down (load balancer).
 * - /health/status: every degradation (stale heatmaps, store unreachable, audit backlog,
 *   trading state unusable) as data, always 200 while the process answers (alerting).
 * Degradations never take a replica out of the load balancer: on them the gate fails
 * closed, which is an answer, and every replica shares the same Redis and venues.
 */

export type StartupState = 'starting' | 'started' | 'failed';

const LiveSchema = z.object({ status: z.literal('ok'), uptimeMs: z.number() }).meta({ id: 'Liveness' });
const ReadinessSchema = z
  .object({
    status: z
      .enum(['ready', 'starting', 'failed', 'stopping'])
      .describe('ready: routable; starting: startup not finished; failed: startup failed (the process exits); stopping: draining'),
    instanceId: z.string(),
  })
  .meta({ id: 'Readiness' });
const StatusSchema = z
  .object({
    status: z.enum(['ok', 'degraded']).describe('degraded when any check fails'),
    ready: z.boolean().describe('What /health/ready answers'),
    startup: z.enum(['starting', 'started', 'failed']),
    instanceId: z.string(),
    source: z.string().describe('Market source the heatmaps come from: sim, ccxt or replay'),
    policyVersion: z.string(),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })),
    degraded: z.array(z.string()).describe('Names of the checks that failed'),
  })
  .meta({ id: 'HealthStatus' });

const CHECK_TIMEOUT_MS = 1_000;

export interface HealthOptions {
  clock: Clock;
  modules: ServiceModule[];
  storePing: () => Promise<void>;
  source: string;
  instanceId: string;
  policyVersion: string;
  startup: () => StartupState;
  closing: () => boolean;
}

export function registerHealthRoutes(app: AppInstance, opts: HealthOptions): void {
  const startedAt = opts.clock();
  const readiness = (): z.infer<typeof ReadinessSchema>['status'] => {
    if (opts.closing()) return 'stopping';
    const s = opts.startup();
    return s === 'started' ? 'ready' : s;
  };

  app.get(
    '/health/live',
    {
      config: { public: true },
      schema: { tags: ['health'], operationId: 'getLiveness', summary: 'The process is up (restart it when this fails)', security: [], response: { 200: LiveSchema } },
    },
    async () => ({ status: 'ok' as const, uptimeMs: opts.clock() - startedAt }),
  );
  app.get(
    '/health/ready',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        operationId: 'getReadiness',
        summary: 'Route to this replica: it can answer (decide, even if only to reject, and serve admin routes)',
        description:
          'Degradations (stale heatmaps, store unreachable, trading halted or unusable) do not make this fail: the gate fails closed on them, which is an answer. See /health/status.',
        security: [],
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
      },
    },
    async (_req, reply) => {
      const status = readiness();
      return reply.code(status === 'ready' ? 200 : 503).send({ status, instanceId: opts.instanceId });
    },
  );
  app.get(
    '/health/status',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        operationId: 'getHealthStatus',
        summary: 'Every degradation, for alerting (200 whenever the process answers)',
        security: [],
        response: { 200: StatusSchema },
      },
    },
    async () => {
      const checks: ReadinessCheck[] = [];
      const startup = opts.startup();
      checks.push(startup === 'started' ? { name: 'startup', ok: true } : { name: 'startup', ok: false, detail: startup });
      try {
        await withTimeout(opts.storePing(), CHECK_TIMEOUT_MS, 'store');
        checks.push({ name: 'store', ok: true });
      } catch (err) {
        checks.push({ name: 'store', ok: false, detail: (err as Error).message });
      }
      for (const m of opts.modules) {
        try {
          checks.push(...(await withTimeout(m.readiness(), CHECK_TIMEOUT_MS, m.name)));
        } catch (err) {
          checks.push({ name: m.name, ok: false, detail: (err as Error).message });
        }
      }
      const degraded = checks.filter((c) => !c.ok).map((c) => c.name);
      return {
        status: degraded.length === 0 ? ('ok' as const) : ('degraded' as const),
        ready: readiness() === 'ready',
        startup,
        instanceId: opts.instanceId,
        source: opts.source,
        policyVersion: opts.policyVersion,
        checks,
        degraded,
      };
    },
  );
}
