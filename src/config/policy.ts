import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HeatmapParamsSchema, type HeatmapParams } from '../domain/heatmap/params.js';
import { PretradePolicySchema, type PretradePolicy } from '../domain/pretrade/policy.js';
import { deepMerge, stableStringify } from '../lib/json.js';
import { issuesToMessages, SYMBOL_RE } from './env.js';

/** The policy: the optional policy document, resolved per symbol and hashed into its version. */

/** The optional policy file (JSON or YAML): global defaults and per-symbol overrides. */
const PolicyOverrideSchema = z
  .object({
    pretrade: z.record(z.string(), z.unknown()).optional(),
    model: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const PolicyFileSchema = z
  .object({
    pretrade: z.record(z.string(), z.unknown()).optional(),
    model: z.record(z.string(), z.unknown()).optional(),
    symbols: z.record(z.string().regex(SYMBOL_RE), PolicyOverrideSchema).optional(),
  })
  .strict();

export type PolicyDocument = z.infer<typeof PolicyFileSchema>;

export interface SymbolPolicy {
  pretrade: PretradePolicy;
  model: HeatmapParams;
}

export interface EffectivePolicy {
  /** Content hash of the effective policy: the `policyVersion` in every decision. */
  version: string;
  defaults: SymbolPolicy;
  symbols: Record<string, SymbolPolicy>;
}

/** Service-wide settings that decisions depend on (so they are part of the policy version). */
export interface PolicyServiceSettings {
  heatmapMaxAgeMs: number;
}

/** Builds the effective policy per symbol from the raw policy document (already shape-checked). */
export function resolvePolicy(
  raw: PolicyDocument,
  symbols: string[],
  service: PolicyServiceSettings,
): { ok: true; policy: EffectivePolicy } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const build = (label: string, pre: Record<string, unknown>, model: Record<string, unknown>): SymbolPolicy | null => {
    const p = PretradePolicySchema.safeParse(pre);
    const m = HeatmapParamsSchema.safeParse(model);
    if (!p.success) errors.push(...issuesToMessages(`policy ${label}pretrade.`, p.error));
    if (!m.success) errors.push(...issuesToMessages(`policy ${label}model.`, m.error));
    return p.success && m.success ? { pretrade: p.data, model: m.data } : null;
  };
  const basePre = raw.pretrade ?? {};
  const baseModel = raw.model ?? {};
  const defaults = build('', basePre, baseModel);
  const out: Record<string, SymbolPolicy> = {};
  for (const name of Object.keys(raw.symbols ?? {})) {
    if (!symbols.includes(name)) errors.push(`policy symbols.${name}: not in SYMBOLS (${symbols.join(',')})`);
  }
  for (const s of symbols) {
    const o = raw.symbols?.[s];
    const sp = build(`symbols.${s}.`, deepMerge(basePre, o?.pretrade ?? {}), deepMerge(baseModel, o?.model ?? {}));
    if (sp) out[s] = sp;
  }
  if (errors.length > 0 || !defaults) return { ok: false, errors };
  // Everything that changes a decision is in the hash: the rules per symbol and the
  // service-wide settings the rules read (the heatmap age limit).
  const version = createHash('sha256')
    .update(stableStringify({ defaults, symbols: out, service }))
    .digest('hex')
    .slice(0, 16);
  return { ok: true, policy: { version, defaults, symbols: out } };
}

function parsePolicyText(path: string, text: string): unknown {
  return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
}

/**
 * The raw policy document: POLICY_FILE, then POLICY_JSON merged over it (the environment
 * wins). Problems are appended to `errors`.
 */
export function readPolicyDocument(
  env: { POLICY_FILE?: string | undefined; POLICY_JSON?: string | undefined },
  readFile: (path: string) => string,
  errors: string[],
): PolicyDocument {
  let rawPolicy: PolicyDocument = {};
  if (env.POLICY_FILE) {
    try {
      const doc = parsePolicyText(env.POLICY_FILE, readFile(env.POLICY_FILE)) ?? {};
      const pf = PolicyFileSchema.safeParse(doc);
      if (pf.success) rawPolicy = pf.data;
      else errors.push(...issuesToMessages('POLICY_FILE ', pf.error));
    } catch (err) {
      errors.push(`POLICY_FILE: cannot read ${env.POLICY_FILE}: ${(err as Error).message}`);
    }
  }
  if (env.POLICY_JSON) {
    let doc: unknown;
    try {
      doc = JSON.parse(env.POLICY_JSON);
    } catch (err) {
      errors.push(`POLICY_JSON: not valid JSON: ${(err as Error).message}`);
    }
    if (doc !== undefined) {
      const pj = PolicyFileSchema.safeParse(doc);
      if (pj.success) rawPolicy = deepMerge(rawPolicy, pj.data) as PolicyDocument;
      else errors.push(...issuesToMessages('POLICY_JSON ', pj.error));
    }
  }
  return rawPolicy;
}

/** The policy for one symbol (falls back to the defaults for a symbol not configured). */
export function policyFor(policy: EffectivePolicy, symbol: string): SymbolPolicy {
  return policy.symbols[symbol] ?? policy.defaults;
}

