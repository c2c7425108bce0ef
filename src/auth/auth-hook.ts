import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKey } from './api-keys.js';
import { HttpError } from '../http/errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Bearer-key authentication with scopes. Every route is private unless its config says
 * `public: true`; a private route with no scope needs any valid key. Keys are compared
 * as SHA-256 digests with timingSafeEqual against every configured key, so neither the
 * comparison nor the lookup leaks which prefix matched.
 */
export function createAuthHook(keys: ApiKey[]) {
  const entries = keys.map((k) => ({ digest: digest(k.key), id: k.id, scopes: k.scopes }));
  return async function authHook(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const cfg = req.routeOptions.config;
    if (cfg?.public || req.routeOptions.url === undefined) return; // public, or the 404 handler
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m?.[1]) {
      throw new HttpError(401, 'UNAUTHORIZED', 'Missing API key: send "Authorization: Bearer <key>"');
    }
    const d = digest(m[1]);
    let found: (typeof entries)[number] | undefined;
    for (const e of entries) {
      if (timingSafeEqual(e.digest, d)) found = e;
    }
    if (!found) throw new HttpError(401, 'UNAUTHORIZED', 'Unknown API key');
    if (cfg?.scope && !found.scopes.includes(cfg.scope)) {
      throw new HttpError(403, 'FORBIDDEN', `This endpoint needs the "${cfg.scope}" scope`);
    }
    req.principal = { keyId: found.id, scopes: found.scopes };
  };
}
