import type { FastifySchema, RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { ErrorBodySchema } from './errors.js';

/**
 * The OpenAPI side of the statuses that shared layers answer, not the handlers: Node's
 * HTTP parser (400, 408, 431), the router and the onRequest hook (400, 414, 503 while
 * draining), authentication (401, 403 with the route's scope), the body parser (413, 415)
 * and the error handler (500). Each route's schema declares its own statuses; this adds
 * the shared ones to the document only (validation and serialization still use the
 * route's schema as written), gives every response a description, documents the
 * conditional GET of routes that declare 304, and puts the security requirement on each
 * operation.
 */

type RouteConfig = { public?: boolean; scope?: string } | undefined;
type ResponseMap = Record<string, unknown>;
type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

const JSON_MEDIA = 'application/json';

/** What a status means on this service, whichever route answers it. */
const OWN_DESCRIPTIONS: Record<string, string> = {
  200: 'Success',
  202: 'Accepted: recorded, processing continues',
  304: 'Not modified: the `If-None-Match` ETag is current (no body)',
  404: 'Not found (`error` says what: NOT_FOUND, UNKNOWN_SYMBOL, NO_HISTORY, ...)',
  409: 'Conflict with what is already recorded (`error` says which; `details` names the field)',
  503: 'Unavailable (the body says why)',
};

interface SharedError {
  readonly status: number;
  readonly applies: (r: RouteFacts) => boolean;
  readonly describe: (r: RouteFacts) => string;
  readonly headers?: Record<string, { description: string; type: 'string' }>;
}

interface RouteFacts {
  readonly isPublic: boolean;
  readonly scope: string | undefined;
  /** The method takes a body, so the body parser's 413 and 415 apply. */
  readonly hasBody: boolean;
  readonly hasInput: boolean;
  readonly isHealth: boolean;
  /** Statuses the route's own schema declares. */
  readonly own: ReadonlySet<string>;
}

// Response headers in @fastify/swagger's form: a JSON schema per header, its description lifted out.
const connectionClose = { connection: { description: 'close: the connection is closed after this answer', type: 'string' as const } };

const SHARED_ERRORS: readonly SharedError[] = [
  {
    status: 400,
    applies: () => true,
    describe: (r) =>
      [
        r.hasInput || r.own.has('400') ? 'Invalid request: VALIDATION_FAILED with `details` (one entry per offending field)' : undefined,
        'BAD_REQUEST for a malformed request (bad JSON, malformed URL or HTTP)',
        r.isPublic ? undefined : 'or more than one Authorization header',
      ]
        .filter(Boolean)
        .join('; '),
  },
  {
    status: 401,
    applies: (r) => !r.isPublic,
    describe: () => 'UNAUTHORIZED: missing or unknown API key (`WWW-Authenticate` carries the Bearer challenge)',
    headers: {
      'www-authenticate': { description: 'Bearer challenge (RFC 6750)', type: 'string' },
      ...connectionClose,
    },
  },
  {
    status: 403,
    applies: (r) => r.scope !== undefined,
    describe: (r) =>
      `FORBIDDEN: the API key lacks the "${r.scope ?? ''}" scope (\`WWW-Authenticate\` names it); routes that name an account also answer ACCOUNT_FORBIDDEN when the key may not act for it`,
    headers: {
      'www-authenticate': { description: 'Bearer challenge with error="insufficient_scope" and the scope needed', type: 'string' },
      ...connectionClose,
    },
  },
  {
    status: 408,
    applies: () => true,
    describe: () => 'REQUEST_TIMEOUT: the request did not arrive within the request timeout; the connection is closed',
    headers: connectionClose,
  },
  {
    status: 413,
    applies: (r) => r.hasBody,
    describe: () => 'PAYLOAD_TOO_LARGE: the body is larger than the configured limit (BODY_LIMIT_BYTES)',
  },
  { status: 414, applies: () => true, describe: () => 'URI_TOO_LONG: the URL is longer than the configured limit' },
  {
    status: 415,
    applies: (r) => r.hasBody,
    describe: () => 'UNSUPPORTED_MEDIA_TYPE: the body is not application/json',
  },
  {
    status: 431,
    applies: () => true,
    describe: () => 'HEADERS_TOO_LARGE: the request line and headers exceed the configured size; the connection is closed',
    headers: connectionClose,
  },
  { status: 500, applies: () => true, describe: () => 'INTERNAL: an unexpected error (the `requestId` finds it in the logs)' },
  {
    status: 503,
    applies: (r) => !r.isHealth,
    describe: (r) =>
      r.own.has('503')
        ? 'Unavailable, retry shortly: a store or data this route needs is not available (`error` says which, e.g. STORE_UNAVAILABLE), or SHUTTING_DOWN (this replica is draining; retry on another)'
        : 'SHUTTING_DOWN: this replica is draining; retry on another',
  },
];

const ETAG_HEADER = {
  etag: { description: 'Weak ETag of this version and shape; send it back in `If-None-Match`', type: 'string' as const },
};

function factsOf(route: RouteOptions, schema: FastifySchema, url: string): RouteFacts {
  const cfg = route.config as RouteConfig;
  return {
    isPublic: cfg?.public === true,
    scope: cfg?.scope,
    // Fastify parses a body on every method but GET and HEAD, whether the route reads one or not.
    hasBody: [route.method].flat().some((m) => m !== 'GET' && m !== 'HEAD'),
    hasInput: schema.body !== undefined || schema.querystring !== undefined || schema.params !== undefined,
    isHealth: url.startsWith('/health/'),
    own: new Set(Object.keys((schema.response as ResponseMap | undefined) ?? {})),
  };
}

/** A response entry already in the zod provider's content form (`{ description, content }`). */
const isContentForm = (entry: unknown): boolean => entry !== null && typeof entry === 'object' && 'content' in entry;

/** A zod response entry in the provider's content form, so it can carry a description. */
function described(entry: unknown, status: string, mediaTypes: string[]): unknown {
  if (isContentForm(entry) || status === '304') return entry; // 304 has no body: completed after the transform
  const schema = entry as z.ZodType;
  const description = schema.description ?? OWN_DESCRIPTIONS[status] ?? 'Error (`error` says which)';
  return { description, content: Object.fromEntries(mediaTypes.map((m) => [m, { schema }])) };
}

/** The route's responses, each described, plus the shared error responses that apply to it. */
function responsesFor(schema: FastifySchema, facts: RouteFacts): ResponseMap {
  const own = (schema.response as ResponseMap | undefined) ?? {};
  const produces = (schema as { produces?: string[] }).produces;
  const out: ResponseMap = {};
  for (const [status, entry] of Object.entries(own)) {
    const media = status.startsWith('2') && produces?.length ? produces : [JSON_MEDIA];
    out[status] = described(entry, status, media);
  }
  for (const shared of SHARED_ERRORS) {
    const status = String(shared.status);
    const entry = own[status];
    // A route that describes the status itself keeps its entry; otherwise its schema (if it
    // declares the status) gets the shared description, which knows the route.
    if (!shared.applies(facts) || isContentForm(entry)) continue;
    const body = (entry as z.ZodType | undefined) ?? ErrorBodySchema;
    out[status] = { description: shared.describe(facts), content: { [JSON_MEDIA]: { schema: body } } };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

type TransformedSchema = Record<string, unknown> & { response?: Record<string, Record<string, unknown>> };

/** Response headers of the shared errors and the conditional GET, added to the transformed (JSON) schema. */
function addHeaders(transformed: TransformedSchema, facts: RouteFacts): void {
  const response = transformed.response;
  if (!response) return;
  for (const shared of SHARED_ERRORS) {
    const r = response[String(shared.status)];
    if (r && shared.headers && shared.applies(facts)) r.headers = { ...shared.headers };
  }
  if (facts.own.has('304')) {
    response['304'] = { type: 'null', description: OWN_DESCRIPTIONS['304'], headers: { ...ETAG_HEADER } };
    const ok = response['200'];
    if (ok) ok.headers = { ...ETAG_HEADER, 'cache-control': { description: 'no-cache: revalidate with If-None-Match', type: 'string' } };
    const headers = (transformed.headers ?? { type: 'object', properties: {} }) as { properties?: Record<string, unknown> };
    transformed.headers = {
      ...headers,
      properties: {
        ...headers.properties,
        'if-none-match': { type: 'string', description: 'An ETag from an earlier answer: 304 with no body while it is still current' },
      },
    };
  }
}

/**
 * The @fastify/swagger `transform`: the zod provider's jsonSchemaTransform, on the route's
 * schema completed with the shared responses, then the headers and the security
 * requirement (none on public routes; bearer with the route's scope otherwise).
 */
export function openApiRouteTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const { schema, route, url } = input;
  if (!schema || (schema as { hide?: boolean }).hide) return jsonSchemaTransform(input);
  const facts = factsOf(route, schema, url);
  const completed = { ...schema, response: responsesFor(schema, facts) };
  const out = jsonSchemaTransform({ ...input, schema: completed });
  const transformed = out.schema as TransformedSchema;
  addHeaders(transformed, facts);
  transformed.security = facts.isPublic ? [] : [{ bearerAuth: facts.scope ? [facts.scope] : [] }];
  return out;
}
