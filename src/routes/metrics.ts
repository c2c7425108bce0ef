import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AppMetrics } from '../metrics.js';
import type { AppInstance } from '../modules/module.js';

/**
 * GET /metrics in Prometheus' text format, for the `metrics` scope (a scraper gets a key
 * that can read nothing else). METRICS_PORT serves the same text without a key on a
 * separate listener (src/server.ts) for scrapers that cannot send one.
 */
export function registerMetricsRoute(app: AppInstance, metrics: AppMetrics): void {
  app.get(
    '/metrics',
    {
      config: { scope: 'metrics' },
      schema: {
        tags: ['health'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
        response: { 200: z.string().describe('Prometheus text exposition format (text/plain; version=0.0.4)') },
      },
    },
    async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );
}

/**
 * The keyless metrics listener's handler (METRICS_PORT): GET /metrics only, anything else 404.
 * src/server.ts creates and closes the listener; nothing else here listens.
 */
export function metricsRequestHandler(metrics: AppMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  };
}
