import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AppConfig } from './config/index.js';
import { within } from './lib/async.js';
import { createAuthenticator } from './auth/auth-hook.js';
import { watchApiKeysFile } from './auth/keys-file.js';
import { pruneUnreachableSchemas } from './openapi-prune.js';
import { openApiRouteTransform } from './http/openapi-responses.js';
import { errorHandler, HttpError, notFoundHandler } from './http/errors.js';
import { registerRequestRateLimit } from './http/rate-limit.js';
import { boundedServerOptions, createClientErrorHandler, frameworkErrorHandler, SECURITY_HEADERS } from './http/connection.js';
import { registerHealthRoutes, type StartupState } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { createMetrics, instrumentStore, type ServiceMetrics } from './metrics.js';
import type { AppDeps, AppInstance, ModuleInfra, ServiceModule } from './modules/module.js';
import { createHeatmapModule } from './modules/heatmaps/index.js';
import { createPretradeModule } from './modules/pretrade/index.js';
import { createPosttradeModule } from './modules/posttrade/index.js';
import { closeStores, createStores, type Stores } from './stores/index.js';
import { createExposureModule } from './modules/exposure/index.js';
import { redisKeys } from './stores/redis-keys.js';
import { createPolicyRegistry } from './ops/policy-registry.js';

export const API_VERSION = '1.0.0';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Settles once every module has started (rejects if one failed). ready() waits for it
     * at most STARTUP_WAIT_MS, so a slow start (e.g. a Redis connection stuck behind slow
     * name resolution) cannot time out Fastify's onReady; the server awaits it after listening.
     */
    started: Promise<void>;
    /** Re-reads API_KEYS_FILE now (the server calls it on SIGHUP); false when nothing changed or it is not set. */
    reloadApiKeys(): boolean;
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

/** Every store call is timed and counted (liqgate_store_*), whichever stores were built or given. */
function instrumentStores(s: Stores, metrics: ServiceMetrics): Stores {
  return {
    ...s,
    heatmaps: instrumentStore(s.heatmaps, 'heatmap', metrics),
    auditLog: instrumentStore(s.auditLog, 'audit', metrics),
    idempotency: s.idempotency && instrumentStore(s.idempotency, 'idempotency', metrics),
    tradingState: instrumentStore(s.tradingState, 'trading-state', metrics),
    posttrade: instrumentStore(s.posttrade, 'posttrade', metrics),
    exposure: instrumentStore(s.exposure, 'exposure', metrics),
  };
}

/**
 * Builds the whole service. Nothing is created at module load; nothing here reads the
 * environment, listens or handles signals (src/server.ts does). Background work starts
 * when the app is ready and stops (flushing buffers) when it closes.
 */
export async function buildApp(config: AppConfig, deps: AppDeps): Promise<AppInstance> {
  const limits = config.server.http;
  const logger = deps.logger as FastifyBaseLogger;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.server.bodyLimit,
    ...boundedServerOptions(limits),
    clientErrorHandler: createClientErrorHandler(logger, limits),
    frameworkErrors: frameworkErrorHandler,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    },
    // Answer in-flight requests on close, but stop keep-alive connections from lingering.
    forceCloseConnections: 'idle',
    // While closing, requests get our own 503 (the onRequest hook), in the one error shape.
    return503OnClosing: false,
    logController: new RequestLogsAtDebug(),
  }).withTypeProvider<ZodTypeProvider>();
  // Connections beyond the cap are closed on accept (Node has no constructor option for it).
  app.server.maxConnections = limits.maxConnections;

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
        // The project carries no open-source licence (package.json is private, UNLICENSED).
        license: { name: 'Proprietary (UNLICENSED)', identifier: 'LicenseRef-Proprietary' },
      },
      servers: [
        // First, so that Swagger UI (/docs) keeps calling the replica it is served from.
        { url: '/', description: 'The replica that serves this document (what /docs calls)' },
        // 127.0.0.1 as in the README's quickstart (Redocly's no-server-example.com refuses "localhost", a placeholder to it).
        { url: 'http://127.0.0.1:8080', description: 'The demo on this machine (npm start, or docker compose up)' },
        {
          url: '{scheme}://{host}:{port}',
          description: 'A deployed replica or its load balancer',
          variables: {
            scheme: { default: 'http', enum: ['http', 'https'], description: 'https behind a TLS-terminating proxy' },
            host: { default: '127.0.0.1', description: 'Host name of the replica or its load balancer' },
            port: { default: '8080', description: 'PORT the service listens on' },
          },
        },
      ],
      tags: [
        { name: 'pretrade', description: 'The gate: decisions on proposed orders, their audit, the policy in force' },
        { name: 'heatmaps', description: 'Liquidation heatmaps per symbol, their history and freshness, venue clocks' },
        { name: 'exposure', description: 'Positions, reservations and limits per account; portfolio risk against the liquidation zones' },
        { name: 'posttrade', description: 'Fills and their analysis against the heatmap at the time; reports and calibration proposals' },
        { name: 'admin', description: 'The kill switch (trading state); needs the admin scope' },
        { name: 'health', description: 'Liveness, readiness, degradations and Prometheus metrics' },
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key with scopes pretrade, read or admin' } },
      },
      security: [{ bearerAuth: [] }],
    },
    // Adds the statuses shared layers answer, response descriptions and per-operation security.
    transform: openApiRouteTransform,
    // Only the component schemas some path uses (see pruneUnreachableSchemas).
    transformObject: (doc) => pruneUnreachableSchemas(jsonSchemaTransformObject(doc) as Parameters<typeof pruneUnreachableSchemas>[0]) as ReturnType<typeof jsonSchemaTransformObject>,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  // The request limit per API key (before any route is added: it hooks each one).
  if (config.server.rateLimit) {
    const shared = config.store.kind === 'redis' && deps.redis ? { redis: deps.redis, nameSpace: `${config.store.keyPrefix}rl:` } : null;
    await registerRequestRateLimit(app, config.server.rateLimit, shared);
  }

  const metrics = deps.metrics ?? createMetrics({ defaultLabels: { instance: config.instanceId } });
  const stores = instrumentStores(deps.stores ?? createStores(config, deps), metrics);
  const infra: ModuleInfra = {
    config,
    clock: deps.clock,
    logger: deps.logger,
    marketSource: deps.marketSource,
    stores,
    keys: redisKeys(config.store.keyPrefix),
    metrics,
  };
  const policy = createPolicyRegistry({
    redis: config.store.kind === 'redis' ? deps.redis : null,
    keys: infra.keys,
    instanceId: config.instanceId,
    version: config.policy.version,
    clock: deps.clock,
    logger: deps.logger,
  });
  const heatmaps = createHeatmapModule(infra, policy);
  const exposure = createExposureModule(infra, heatmaps.reader);
  const pretrade = createPretradeModule(infra, heatmaps.reader, exposure.gateExposure);
  const posttrade = createPosttradeModule(infra, heatmaps.reader, pretrade, exposure);
  metrics.gauge(
    'liqgate_policy_replica_info',
    'The policy version each live replica runs (one sample per replica, value 1); more than one version means replicas decide differently',
    ['replica', 'version'],
    async () => (await policy.replicas()).map((r): [Record<string, string>, number] => [{ replica: r.instanceId, version: r.version }, 1]),
  );
  const modules: ServiceModule[] = [heatmaps, pretrade, posttrade, exposure, policy];

  // One callback-style hook for every request (no promise per request): the request id
  // and security headers go on the reply first, so every answer carries them, errors and
  // 404s included (Fastify keeps reply headers on the error path), then authentication.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    // Fastify closes the connections idle when closing starts; one whose request finishes
    // later would stay open until the keep-alive timeout, longer than SHUTDOWN_TIMEOUT_MS.
    if (app.server.listening) {
      const drain = setInterval(() => app.server.closeIdleConnections(), 100);
      drain.unref();
      app.server.once('close', () => clearInterval(drain));
    }
    done();
  });
  const authenticate = createAuthenticator(config.auth.keys);
  const keyReload = config.auth.reload;
  const keysWatcher = keyReload
    ? watchApiKeysFile({
        path: keyReload.file,
        inlineSpec: keyReload.inlineSpec,
        intervalMs: keyReload.intervalMs,
        readFile: (p) => readFileSync(p, 'utf8'),
        apply: (keys) => authenticate.replaceKeys(keys),
        logger: app.log,
      })
    : undefined;
  app.decorate('reloadApiKeys', () => keysWatcher?.reload() ?? false);
  app.addHook('onClose', (_instance, done) => {
    keysWatcher?.close();
    done();
  });
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id).headers(SECURITY_HEADERS);
    if (req.url.length > limits.maxUrlLength) return done(new HttpError(414, 'URI_TOO_LONG', 'The URL is too long'));
    // Health routes report draining themselves (the load balancer reads it there).
    if (closing && !req.url.startsWith('/health/'))
      return done(new HttpError(503, 'SHUTTING_DOWN', 'This replica is shutting down; retry on another', undefined, {
        connection: 'close',
      }));
    if (req.routeOptions.url?.startsWith('/docs')) return done(); // the Swagger UI's own assets
    done(authenticate(req));
  });

  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
  let startup: StartupState = 'starting';
  registerHealthRoutes(app, {
    clock: deps.clock,
    modules,
    storePing: () => stores.heatmaps.ping(),
    source: config.market.source,
    instanceId: config.instanceId,
    policyVersion: config.policy.version,
    startup: () => startup,
    closing: () => closing,
  });
  registerMetricsRoute(app, metrics);
  for (const m of modules) await m.registerRoutes(app);

  // What only talks to Redis starts first (the gate, the policy registry): the heatmap
  // module's pollers make the first venue calls, whose DNS lookups share libuv's few
  // threads with Redis's, and a slow resolver once held a Redis connection long enough
  // to crash startup.
  const startOrder: ServiceModule[] = [pretrade, policy, posttrade, exposure, heatmaps];
  let beginStart!: () => void;
  const started = new Promise<void>((resolve) => (beginStart = resolve)).then(async () => {
    for (const m of startOrder) await m.start();
  });
  started.then(
    () => (startup = 'started'),
    () => (startup = 'failed'), // the error itself goes to ready() or the server
  );
  app.decorate('started', started);
  app.addHook('onReady', async () => {
    beginStart();
    const outcome = await within(started.then(() => 'started' as const), config.server.startupWaitMs, 'waiting' as const);
    if (outcome === 'waiting')
      app.log.warn({ waitedMs: config.server.startupWaitMs }, 'startup still in progress; listening anyway (not ready until it finishes)');
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
    // Only stores it built itself: given ones are their creator's to close.
    if (!deps.stores) await closeStores(stores).catch((err: unknown) => app.log.error({ err }, 'stores failed to close cleanly'));
  });
  return app;
}
