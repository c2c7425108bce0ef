import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AppConfig } from './config.js';
import { createAuthenticator } from './auth/auth-hook.js';
import { pruneUnreachableSchemas } from './openapi-prune.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { createMetrics, type AppMetrics } from './metrics.js';
import type { AppDeps, AppInstance, HeatmapModule, ModuleInfra, PretradeModule, ServiceModule } from './modules/module.js';
import { createHeatmapModule } from './modules/heatmaps/index.js';
import { createPretradeModule } from './modules/pretrade/index.js';
import { createPosttradeModule, type PosttradeModule } from './modules/posttrade/index.js';
import { redisKeys } from './stores/redis-keys.js';

export const API_VERSION = '1.0.0';

export interface AppServices {
  heatmaps: HeatmapModule;
  pretrade: PretradeModule;
  posttrade: PosttradeModule;
  metrics: AppMetrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: AppServices;
  }
}

/**
 * Fastify writes two info lines per request; at a desk's order rate, plus every health
 * probe, that drowns the log. Requests are logged at debug; a request that errored stays
 * at error.
 */
class RequestLogsAtDebug extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ err: error, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed');
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the whole service. Nothing is created at module load; nothing here reads the
 * environment, listens or handles signals (src/server.ts does). Background work starts
 * when the app is ready and stops (flushing buffers) when it closes.
 */
export async function buildApp(config: AppConfig, deps: AppDeps): Promise<AppInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.server.bodyLimit,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    },
    // Answer in-flight requests on close, but stop keep-alive connections from lingering.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    logController: new RequestLogsAtDebug(),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Liquidation-cluster pre-trade risk gate',
        description:
          'Estimates liquidation heatmaps for crypto perpetual futures and gates proposed orders (APPROVE / RESIZE / REJECT with stable reason codes).',
        version: API_VERSION,
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key with scopes pretrade, read or admin' } },
      },
      security: [{ bearerAuth: [] }],
    },
    transform: jsonSchemaTransform,
    // Only the component schemas some path uses (see pruneUnreachableSchemas).
    transformObject: (doc) => pruneUnreachableSchemas(jsonSchemaTransformObject(doc) as Parameters<typeof pruneUnreachableSchemas>[0]) as ReturnType<typeof jsonSchemaTransformObject>,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });

  const metrics = createMetrics({ defaultLabels: { instance: config.instanceId } });
  const infra: ModuleInfra = { ...deps, config, keys: redisKeys(config.store.keyPrefix), metrics };
  const heatmaps = createHeatmapModule(infra);
  const pretrade = createPretradeModule(infra, heatmaps.reader);
  const posttrade = createPosttradeModule(infra, heatmaps, pretrade);
  const modules: ServiceModule[] = [heatmaps, pretrade, posttrade];
  app.decorate('services', { heatmaps, pretrade, posttrade, metrics });

  // One callback-style hook for every request (no promise per request): the request id
  // header goes on the reply first, so every answer carries it, errors and 404s included
  // (Fastify keeps reply headers on the error path), then authentication.
  const authenticate = createAuthenticator(config.auth.keys);
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    if (req.routeOptions.url?.startsWith('/docs')) return done(); // the Swagger UI's own assets
    done(authenticate(req));
  });

  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
  registerHealthRoutes(app, {
    clock: deps.clock,
    modules,
    storePing: () => heatmaps.store.ping(),
    source: config.market.source,
  });
  registerMetricsRoute(app, metrics);
  for (const m of modules) await m.registerRoutes(app);

  app.addHook('onReady', async () => {
    for (const m of modules) await m.start();
  });
  app.addHook('onClose', async () => {
    // Reverse order: stop the gate (flushing its audit buffer) before the data it reads.
    for (const m of [...modules].reverse()) {
      try {
        await m.stop();
      } catch (err) {
        app.log.error({ err, module: m.name }, 'module failed to stop cleanly');
      }
    }
  });
  return app;
}
