import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKey } from './api-keys.js';
import { HttpError } from '../http/errors.js';

// One-shot `crypto.hash` (Node >= 20.12): a fraction of createHash's cost per request.
const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

const BEARER_RE = /^Bearer\s+(\S+)$/i;

/**
 * Bearer-key authentication with scopes. Every route is private unless its config says
 * `public: true`; a private route with no scope needs any valid key. Keys are compared
 * as SHA-256 digests with timingSafeEqual against every configured key, so neither the
 * comparison nor the lookup leaks which prefix matched. Nothing derived from a presented
 * key is kept between requests.
 *
 * Synchronous: returns the error to answer with (401/403), or undefined once
 * `req.principal` is set (or the route needs no key). The app calls it from its one
 * callback-style onRequest hook, with no promise per request.
 */
export function createAuthenticator(keys: ApiKey[]): (req: FastifyRequest) => HttpError | undefined {
  // Each key's principal is built once and shared by its requests (frozen: not theirs to change).
  const entries = keys.map((k) => ({
    digest: digest(k.key),
    principal: Object.freeze({ keyId: k.id, scopes: Object.freeze([...k.scopes]) as ApiKey['scopes'] }),
  }));
  return function authenticate(req: FastifyRequest): HttpError | undefined {
    const route = req.routeOptions;
    const cfg = route.config;
    if (cfg?.public || route.url === undefined) return undefined; // public, or the 404 handler
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? BEARER_RE.exec(header) : null;
    if (!m?.[1]) {
      return new HttpError(401, 'UNAUTHORIZED', 'Missing API key: send "Authorization: Bearer <key>"');
    }
    const d = digest(m[1]);
    let found: (typeof entries)[number] | undefined;
    for (const e of entries) {
      if (timingSafeEqual(e.digest, d)) found = e;
    }
    if (!found) return new HttpError(401, 'UNAUTHORIZED', 'Unknown API key');
    if (cfg?.scope && !found.principal.scopes.includes(cfg.scope)) {
      return new HttpError(403, 'FORBIDDEN', `This endpoint needs the "${cfg.scope}" scope`);
    }
    req.principal = found.principal;
    return undefined;
  };
}

/** The same check as an async onRequest hook (throws the 401/403), for apps assembled by hand. */
export function createAuthHook(keys: ApiKey[]) {
  const authenticate = createAuthenticator(keys);
  return async function authHook(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const err = authenticate(req);
    if (err) throw err;
  };
}
