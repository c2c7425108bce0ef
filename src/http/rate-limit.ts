import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../stores/redis-client.js';
import type { RequestRateLimit } from '../config/env.js';
import { ErrorBodySchema, HttpError } from './errors.js';

type Callback = (err: Error | null, result?: unknown) => void;

/**
 * The shared client as the plugin's Redis store sees it, each count bounded to `timeoutMs`:
 * during a Redis outage the client queues commands until it reconnects, and a request must
 * not wait for that (the count fails, and skipOnError lets the request through).
 */
function boundedClient(redis: RedisClient, timeoutMs: number): unknown {
  const commands = redis as unknown as Record<string, ((...args: unknown[]) => void) | undefined>;
  const bounded = (name: string) => {
    if (!commands[name]) return undefined;
    return (...args: unknown[]) => {
      const cb = args.pop() as Callback;
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        cb(new Error(`request limit store: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      commands[name]!(...args, (err: Error | null, result?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        cb(err, result);
      });
    };
  };
  return {
    defineCommand: redis.defineCommand.bind(redis),
    get rateLimit() {
      return bounded('rateLimit');
    },
    get rateLimitRead() {
      return bounded('rateLimitRead');
    },
  };
}

/** How long a request waits for the shared count before passing uncounted. */
const STORE_TIMEOUT_MS = 250;

/**
 * The request limit per API key: protects the service itself (not a trading limit, which
 * answers as a decision). It runs in onRequest right after authentication, so an excess
 * request is answered 429 before its body is validated or anything is audited. Keyed by
 * the authenticated key id, not the address (replicas behind one proxy see one address);
 * requests with no key (health, the OpenAPI document, the docs UI) are never counted.
 * With `redis` the count lives there (one counter per key and window, shared by every
 * replica); otherwise in this process. Must be registered before the routes.
 */
export async function registerRequestRateLimit(
  app: FastifyInstance,
  limit: RequestRateLimit,
  store: { redis: RedisClient; nameSpace: string } | null,
): Promise<void> {
  // Every route that takes a key may answer 429: declared here once, for the OpenAPI
  // document, rather than in each module's schema.
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (route.config?.public || !response || route.schema?.hide) return;
    route.schema = { ...route.schema, response: { ...response, 429: ErrorBodySchema } };
  });
  await app.register(fastifyRateLimit, {
    global: true,
    max: limit.perKey,
    timeWindow: limit.windowMs,
    hook: 'onRequest',
    keyGenerator: (req) => req.principal?.keyId ?? '',
    allowList: (req) => req.principal === undefined,
    // A limiter store that fails lets the request through: the limit protects capacity,
    // and the routes that need Redis fail closed on their own.
    skipOnError: true,
    ...(store ? { redis: boundedClient(store.redis, STORE_TIMEOUT_MS) as Redis, nameSpace: store.nameSpace } : {}),
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (req, ctx) =>
      new HttpError(
        429,
        'RATE_LIMITED',
        `API key ${req.principal?.keyId ?? ''} made more than ${ctx.max} requests in ${limit.windowMs} ms; retry in ${ctx.after}`,
      ),
  });
}
