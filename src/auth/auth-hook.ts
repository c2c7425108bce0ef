import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { accountsOf, type ApiKey } from './api-keys.js';
import { HttpError } from '../http/errors.js';

// One-shot `crypto.hash` (Node >= 20.12): a fraction of createHash's cost per request.
const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

const BEARER_RE = /^Bearer\s+(\S+)$/i;

// RFC 6750 challenges. An auth failure also closes the connection: a client without a
// valid key gets its answer and cannot keep the connection (or trickle a body on it).
const unauthorized = (message: string, challenge: string) =>
  new HttpError(401, 'UNAUTHORIZED', message, undefined, { 'www-authenticate': challenge, connection: 'close' });
const MISSING = 'Bearer realm="liq-gate"';
const INVALID = 'Bearer realm="liq-gate", error="invalid_token"';

/** True when the request carries more than one Authorization header (Node keeps only the first). */
function hasSeveralAuthorizations(req: FastifyRequest): boolean {
  const raw = req.raw.rawHeaders;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.length === 13 && raw[i]?.toLowerCase() === 'authorization' && ++n > 1) return true;
  }
  return false;
}

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
export interface Authenticator {
  (req: FastifyRequest): HttpError | undefined;
  /** Puts a new key set in force for the next request (rotation and revocation without a restart). */
  replaceKeys(keys: ApiKey[]): void;
}

export function createAuthenticator(keys: ApiKey[]): Authenticator {
  // Each key's principal is built once and shared by its requests (frozen: not theirs to change).
  const entriesOf = (ks: ApiKey[]) =>
    ks.map((k) => ({
      digest: digest(k.key),
      principal: Object.freeze({ keyId: k.id, scopes: Object.freeze([...k.scopes]) as ApiKey['scopes'], accounts: Object.freeze(accountsOf(k)) }),
    }));
  let entries = entriesOf(keys);
  const authenticate = function authenticate(req: FastifyRequest): HttpError | undefined {
    const route = req.routeOptions;
    const cfg = route.config;
    if (cfg?.public || route.url === undefined) return undefined; // public, or the 404 handler
    if (hasSeveralAuthorizations(req)) {
      return new HttpError(400, 'BAD_REQUEST', 'Send exactly one Authorization header', undefined, { connection: 'close' });
    }
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? BEARER_RE.exec(header) : null;
    if (!m?.[1]) return unauthorized('Missing API key: send "Authorization: Bearer <key>"', MISSING);
    const d = digest(m[1]);
    let found: (typeof entries)[number] | undefined;
    for (const e of entries) {
      if (timingSafeEqual(e.digest, d)) found = e;
    }
    if (!found) return unauthorized('Unknown API key', INVALID);
    if (cfg?.scope && !found.principal.scopes.includes(cfg.scope)) {
      return new HttpError(403, 'FORBIDDEN', `This endpoint needs the "${cfg.scope}" scope`, undefined, {
        'www-authenticate': `Bearer realm="liq-gate", error="insufficient_scope", scope="${cfg.scope}"`,
        connection: 'close',
      });
    }
    req.principal = found.principal;
    return undefined;
  };
  return Object.assign(authenticate, {
    replaceKeys: (next: ApiKey[]) => {
      entries = entriesOf(next);
    },
  });
}
