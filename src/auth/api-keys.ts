export const SCOPES = ['pretrade', 'read', 'admin', 'metrics'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  /** A non-secret label for logs and audit (the key itself never is logged). */
  id: string;
  key: string;
  scopes: Scope[];
  /**
   * The accounts the key may act for (spend, reconcile, release, read); the first is its
   * default account. Absent: only the account named like the key's id. `*`: every account.
   */
  accounts?: string[] | undefined;
}

/** The accounts a principal may act for, and its default one (for requests that name none). */
export function accountsOf(key: Pick<ApiKey, 'id' | 'accounts'>): { default: string; allowed: readonly string[] } {
  const list = key.accounts && key.accounts.length > 0 ? key.accounts : [key.id];
  const first = list[0] === '*' ? key.id : (list[0] ?? key.id);
  return { default: first, allowed: list };
}

/** Whether the key may act for `accountId`. */
export function mayActFor(allowed: readonly string[], accountId: string): boolean {
  return allowed.includes('*') || allowed.includes(accountId);
}

const ACCOUNT_RE = /^(\*|[A-Za-z0-9._:-]{1,64})$/;

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
  entries.forEach((raw, i) => {
    // `id=key:scopes@acct1|acct2`: a key and its scopes never hold "@", so the first one after "=" starts the accounts.
    const at = raw.indexOf('@', Math.max(0, raw.indexOf('=')));
    const entry = at >= 0 ? raw.slice(0, at) : raw;
    const accounts = at >= 0 ? raw.slice(at + 1).split('|').map((a) => a.trim()) : undefined;
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
    const badAccounts = (accounts ?? []).filter((a) => !ACCOUNT_RE.test(a));
    if (accounts && (accounts.length === 0 || badAccounts.length > 0)) {
      errors.push(`entry ${i + 1} (${id}): accounts after "@" are 1-64 of letters, digits, ".", "_", ":", "-" (or *), separated by "|"; got ${JSON.stringify(badAccounts.join('|'))}`);
      return;
    }
    keys.push({ id, key: idAndKey, scopes: [...new Set(scopes)] as Scope[], ...(accounts ? { accounts } : {}) });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, keys };
}
