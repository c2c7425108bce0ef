export const SCOPES = ['pretrade', 'read', 'admin', 'metrics'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  /** A non-secret label for logs and audit (the key itself never is logged). */
  id: string;
  key: string;
  scopes: Scope[];
}

/**
 * Parses `key:scope+scope,key2:scope` (optionally `id=key:scopes`). Keys must be at least
 * 8 characters of [A-Za-z0-9_-.~]; scopes are pretrade, read, admin.
 */
export function parseApiKeys(spec: string): { ok: true; keys: ApiKey[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const keys: ApiKey[] = [];
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  entries.forEach((entry, i) => {
    const colon = entry.lastIndexOf(':');
    if (colon <= 0) {
      errors.push(`entry ${i + 1}: expected key:scope[+scope], e.g. k1:pretrade+read`);
      return;
    }
    let idAndKey = entry.slice(0, colon);
    const scopeText = entry.slice(colon + 1);
    let id = `key${i + 1}`;
    const eq = idAndKey.indexOf('=');
    if (eq > 0) {
      id = idAndKey.slice(0, eq);
      idAndKey = idAndKey.slice(eq + 1);
    }
    if (!/^[A-Za-z0-9_.~-]{8,256}$/.test(idAndKey)) {
      errors.push(`entry ${i + 1} (${id}): key must be 8-256 characters of letters, digits, "_", "-", ".", "~"`);
      return;
    }
    const scopes = scopeText.split('+').map((s) => s.trim());
    const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (bad.length > 0 || scopes.length === 0) {
      errors.push(`entry ${i + 1} (${id}): unknown scope(s) ${bad.join(', ')}; allowed: ${SCOPES.join(', ')}`);
      return;
    }
    if (keys.some((k) => k.key === idAndKey)) {
      errors.push(`entry ${i + 1} (${id}): duplicate key`);
      return;
    }
    keys.push({ id, key: idAndKey, scopes: [...new Set(scopes)] as Scope[] });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, keys };
}
