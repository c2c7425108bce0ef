import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HeatmapParamsSchema, leverageTierProblems, type HeatmapParams } from '../domain/heatmap/params.js';
import { defaultMaintenanceMargin, MaintenanceMarginSchema, type MaintenanceMargin } from '../domain/margin.js';
import { PretradePolicySchema, type PretradePolicy } from '../domain/pretrade/policy.js';
import type { ExposurePolicy } from '../domain/exposure/policy.js';
import { deepMerge, stableStringify } from '../lib/json.js';
import { issuesToMessages, SYMBOL_RE } from './env.js';

/** The policy: the optional policy document, resolved per symbol and hashed into its version. */

/**
 * The optional policy file (JSON or YAML): global defaults and per-symbol overrides.
 * `maintenanceMargin` is the symbol's one maintenance-margin definition, read by both the
 * heatmap model and the gate.
 */
const PolicyOverrideSchema = z
  .object({
    pretrade: z.record(z.string(), z.unknown()).optional(),
    model: z.record(z.string(), z.unknown()).optional(),
    maintenanceMargin: z.unknown().optional(),
  })
  .strict();

export const PolicyFileSchema = z
  .object({
    pretrade: z.record(z.string(), z.unknown()).optional(),
    model: z.record(z.string(), z.unknown()).optional(),
    maintenanceMargin: z.unknown().optional(),
    symbols: z.record(z.string().regex(SYMBOL_RE), PolicyOverrideSchema).optional(),
    exposure: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type PolicyDocument = z.infer<typeof PolicyFileSchema>;

export interface SymbolPolicy {
  pretrade: PretradePolicy;
  model: HeatmapParams;
  maintenanceMargin: MaintenanceMargin;
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
  exposure: ExposurePolicy,
): { ok: true; policy: EffectivePolicy } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const build = (label: string, pre: Record<string, unknown>, model: Record<string, unknown>, margin: unknown): SymbolPolicy | null => {
    const p = PretradePolicySchema.safeParse(pre);
    const m = HeatmapParamsSchema.safeParse(model);
    const mm = MaintenanceMarginSchema.safeParse(margin);
    if (!p.success) errors.push(...issuesToMessages(`policy ${label}pretrade.`, p.error));
    if (!m.success) errors.push(...issuesToMessages(`policy ${label}model.`, m.error));
    if (!mm.success) errors.push(...issuesToMessages(`policy ${label}maintenanceMargin.`, mm.error));
    if (!p.success || !m.success || !mm.success) return null;
    const tierProblems = leverageTierProblems(m.data, mm.data);
    for (const [i, msg] of tierProblems) errors.push(`policy ${label}model.leverage.tiers.${i}: ${msg} (${label}maintenanceMargin)`);
    return tierProblems.length === 0 ? { pretrade: p.data, model: m.data, maintenanceMargin: mm.data } : null;
  };
  const basePre = raw.pretrade ?? {};
  const baseModel = raw.model ?? {};
  const defaults = build('', basePre, baseModel, raw.maintenanceMargin);
  const out: Record<string, SymbolPolicy> = {};
  for (const name of Object.keys(raw.symbols ?? {})) {
    if (!symbols.includes(name)) errors.push(`policy symbols.${name}: not in SYMBOLS (${symbols.join(',')})`);
  }
  for (const s of symbols) {
    const o = raw.symbols?.[s];
    const sp = build(`symbols.${s}.`, deepMerge(basePre, o?.pretrade ?? {}), deepMerge(baseModel, o?.model ?? {}), o?.maintenanceMargin ?? raw.maintenanceMargin ?? defaultMaintenanceMargin(s));
    if (sp) out[s] = sp;
  }
  if (errors.length > 0 || !defaults) return { ok: false, errors };
  // Everything that changes a decision is in the hash: the rules per symbol, the
  // service-wide settings the rules read (the heatmap age limit) and the exposure policy
  // (account limits, trading limits, scaling switches, confirmed-position rule).
  const version = createHash('sha256')
    .update(stableStringify({ defaults, symbols: out, service, exposure }))
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

