import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import type { AppInstance, ReadinessCheck, ServiceModule } from '../modules/module.js';

const LiveSchema = z.object({ status: z.literal('ok'), uptimeMs: z.number() }).meta({ id: 'Liveness' });
const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    source: z.string().describe('Market source the heatmaps come from: sim, ccxt or replay'),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })),
    notReady: z.array(z.string()).describe('Names of the checks that failed'),
  })
  .meta({ id: 'Readiness' });

const STORE_PING_TIMEOUT_MS = 1_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function registerHealthRoutes(
  app: AppInstance,
  opts: { clock: Clock; modules: ServiceModule[]; storePing: () => Promise<void>; source: string },
): void {
  const startedAt = opts.clock();
  app.get(
    '/health/live',
    {
      config: { public: true },
      schema: { tags: ['health'], summary: 'The process is up', security: [], response: { 200: LiveSchema } },
    },
    async () => ({ status: 'ok' as const, uptimeMs: opts.clock() - startedAt }),
  );
  app.get(
    '/health/ready',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: 'Ready to gate orders: the store answers and every symbol has a fresh heatmap',
        security: [],
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
      },
    },
    async (_req, reply) => {
      const checks: ReadinessCheck[] = [];
      try {
        await withTimeout(opts.storePing(), STORE_PING_TIMEOUT_MS, 'store');
        checks.push({ name: 'store', ok: true });
      } catch (err) {
        checks.push({ name: 'store', ok: false, detail: (err as Error).message });
      }
      for (const m of opts.modules) {
        try {
          checks.push(...(await withTimeout(m.readiness(), STORE_PING_TIMEOUT_MS, m.name)));
        } catch (err) {
          checks.push({ name: m.name, ok: false, detail: (err as Error).message });
        }
      }
      const notReady = checks.filter((c) => !c.ok).map((c) => c.name);
      return reply
        .code(notReady.length === 0 ? 200 : 503)
        .send({ status: notReady.length === 0 ? 'ready' : 'not_ready', source: opts.source, checks, notReady });
    },
  );
}
