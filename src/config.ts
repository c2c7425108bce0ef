import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HeatmapParamsSchema, type HeatmapParams } from './domain/heatmap/params.js';
import { PretradePolicySchema, type PretradePolicy } from './domain/pretrade/policy.js';
import { parseApiKeys, type ApiKey } from './auth/api-keys.js';
import { nearMissVariables } from './config-near-miss.js';

/**
 * Configuration: one zod schema over the environment plus an optional policy file.
 * `loadConfig` collects every problem before failing, names each variable, and never
 * reads `process.env` itself: the server entry passes the environment in.
 */

const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;
const KNOWN_VENUES = ['binanceusdm', 'bybit', 'okx'] as const;

/**
 * An integer variable. Every way of getting it wrong (not a number, a fraction, out of
 * range) gets the same message stating the allowed range and the value given.
 */
const intFromEnv = (min: number, max: number) => {
  const allowed = `must be an integer from ${min} to ${max}`;
  const error = (iss: { input?: unknown }) => `${allowed} (got ${JSON.stringify(String(iss.input))})`;
  return z
    .string()
    .regex(/^\s*-?\d+\s*$/, { error })
    .transform(Number)
    .pipe(z.number().int({ error }).min(min, { error }).max(max, { error }));
};

const csv = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .pipe(z.array(item).min(1, 'must list at least one value'));

// ---- Operations (issue 13): HTTP server bounds (timeouts and caps that keep slow or idle
// clients from holding connections), startup, secrets from files. Documented in README.md
// (Configuration) and docs/operations.md.
const OpsEnv = {
  /** A file holding the Redis password (a Docker secret), so it is neither in REDIS_URL nor the environment. */
  REDIS_PASSWORD_FILE: z.string().min(1).optional(),
  /** API_KEYS_FILE is re-read when it changes (checked this often) and on SIGHUP. */
  API_KEYS_RELOAD_INTERVAL_MS: intFromEnv(50, 3_600_000).default(5_000),
  /** Startup waits at most this for background work to begin (Redis subscriptions), then listens anyway. */
  STARTUP_WAIT_MS: intFromEnv(0, 60_000).default(5_000),
  /** Whole request (headers and body) must arrive within this; else 408 and the connection is closed. */
  HTTP_REQUEST_TIMEOUT_MS: intFromEnv(100, 600_000).default(10_000),
  /** Headers must arrive within this (counted from the connection's first byte wait); else 408. */
  HTTP_HEADERS_TIMEOUT_MS: intFromEnv(100, 600_000).default(5_000),
  /** An idle keep-alive connection is closed after this. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: intFromEnv(100, 600_000).default(30_000),
  /** A connection with no traffic in either direction for this long is destroyed. */
  HTTP_CONNECTION_TIMEOUT_MS: intFromEnv(100, 600_000).default(60_000),
  /** How often the request and headers timeouts are enforced (Node checks on an interval). */
  HTTP_TIMEOUT_CHECK_INTERVAL_MS: intFromEnv(10, 30_000).default(1_000),
  /** Connections beyond this are closed on accept. */
  HTTP_MAX_CONNECTIONS: intFromEnv(1, 1_000_000).default(4_096),
  /** After this many requests a connection is closed (Connection: close), 0 = unlimited; spreads load over replicas. */
  HTTP_MAX_REQUESTS_PER_SOCKET: intFromEnv(0, 10_000_000).default(10_000),
  /** Request line plus headers larger than this: 431. */
  HTTP_MAX_HEADER_BYTES: intFromEnv(1_024, 1_048_576).default(16_384),
  /** A URL (path and query) longer than this: 414. */
  HTTP_MAX_URL_LENGTH: intFromEnv(64, 65_536).default(4_096),
};

/** The HTTP server bounds (see OpsEnv), all in one place for buildApp. */
export interface HttpServerLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionTimeoutMs: number;
  timeoutCheckIntervalMs: number;
  maxConnections: number;
  maxRequestsPerSocket: number;
  maxHeaderBytes: number;
  maxUrlLength: number;
}

function httpServerLimits(e: { [K in Extract<keyof typeof OpsEnv, `HTTP_${string}`>]: number }, errors: string[]): HttpServerLimits {
  // Node refuses to start a server whose headers timeout exceeds its request timeout.
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS)
    errors.push('HTTP_HEADERS_TIMEOUT_MS: must be at most HTTP_REQUEST_TIMEOUT_MS');
  return {
    requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeoutMs: e.HTTP_CONNECTION_TIMEOUT_MS,
    timeoutCheckIntervalMs: e.HTTP_TIMEOUT_CHECK_INTERVAL_MS,
    maxConnections: e.HTTP_MAX_CONNECTIONS,
    maxRequestsPerSocket: e.HTTP_MAX_REQUESTS_PER_SOCKET,
    maxHeaderBytes: e.HTTP_MAX_HEADER_BYTES,
    maxUrlLength: e.HTTP_MAX_URL_LENGTH,
  };
}
/** The Redis password from REDIS_PASSWORD_FILE (first line, trimmed), or undefined. */
function readRedisPassword(path: string | undefined, io: ConfigIo, errors: string[]): string | undefined {
  if (!path) return undefined;
  try {
    const pw = io.readFile(path).split(/\r?\n/)[0]?.trim() ?? '';
    if (pw.length === 0) errors.push(`REDIS_PASSWORD_FILE: ${path} is empty`);
    return pw;
  } catch (err) {
    errors.push(`REDIS_PASSWORD_FILE: cannot read ${path}: ${(err as Error).message}`);
    return undefined;
  }
}
// ---- end of operations

/** Every environment variable the service reads, with its default. Documented in README.md. */
export const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: intFromEnv(0, 65535).default(8080),
    HOST: z.string().min(1).default('0.0.0.0'),
    /** Optional second listener serving GET /metrics without a key (for scrapers that cannot send one). */
    METRICS_PORT: intFromEnv(1, 65535).optional(),
    METRICS_HOST: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    STORE: z.enum(['memory', 'redis']).optional(),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL')
      .optional(),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" or "-" only')
      .default('liqgate:'),
    MARKET_SOURCE: z.enum(['sim', 'ccxt', 'replay']).optional(),
    SYMBOLS: csv(z.string().regex(SYMBOL_RE, 'symbols are upper-case ids such as BTCUSDT')).default([
      'BTCUSDT',
      'ETHUSDT',
    ]),
    VENUES: csv(z.enum(KNOWN_VENUES)).default([...KNOWN_VENUES]),
    REPLAY_DIR: z.string().min(1).optional(),
    POLL_INTERVAL_MS: intFromEnv(250, 3_600_000).default(5_000),
    HEATMAP_MAX_AGE_MS: intFromEnv(1_000, 86_400_000).default(60_000),
    BAR_TIMEFRAME: z.enum(['1m', '5m', '15m', '30m', '1h']).default('5m'),
    /** A venue whose newest closed bar is older than this stops contributing (default derived from the bar length). */
    BAR_MAX_AGE_MS: intFromEnv(1_000, 86_400_000).optional(),
    SIM_BAR_INTERVAL_MS: intFromEnv(100, 3_600_000).default(3_000),
    SIM_SEED: intFromEnv(0, 2 ** 31 - 1).default(42),
    LEASE_TTL_MS: intFromEnv(1_000, 600_000).default(15_000),
    HISTORY_RETENTION_MS: intFromEnv(60_000, 7 * 86_400_000).default(86_400_000),
    HISTORY_INTERVAL_MS: intFromEnv(1_000, 3_600_000).default(60_000),
    API_KEYS: z.string().optional(),
    API_KEYS_FILE: z.string().min(1).optional(),
    POLICY_FILE: z.string().min(1).optional(),
    /** Inline policy document (JSON), merged over POLICY_FILE: for deployments that configure by environment. */
    POLICY_JSON: z.string().min(1).optional(),
    BODY_LIMIT_BYTES: intFromEnv(1_024, 10_485_760).default(65_536),
    SHUTDOWN_TIMEOUT_MS: intFromEnv(100, 120_000).default(10_000),
    IDEMPOTENCY_TTL_MS: intFromEnv(1_000, 7 * 86_400_000).default(86_400_000),
    DECISION_LOOKUP_TTL_MS: intFromEnv(60_000, 366 * 86_400_000).default(7 * 86_400_000),
    AUDIT_MAX_ENTRIES: intFromEnv(100, 100_000_000).default(1_000_000),
    /** When an audit group counts as durable: `primary` (Redis acknowledged; its AOF fsync policy decides) or `replica` (also WAIT for a replica). */
    AUDIT_DURABILITY: z.enum(['primary', 'replica']).default('primary'),
    AUDIT_WAIT_TIMEOUT_MS: intFromEnv(1, 10_000).default(100),
    AUDIT_COMMIT_TIMEOUT_MS: intFromEnv(10, 30_000).default(1_000),
    /** Local journal for audit records while Redis cannot take them (a volume; may be shared by replicas). */
    AUDIT_JOURNAL_DIR: z.string().min(1).optional(),
    AUDIT_JOURNAL_ORPHAN_MS: intFromEnv(1_000, 86_400_000).default(60_000),
    /** Daily gzip archive of the audit stream (a consumer group); set, the stream is trimmed only behind it. */
    AUDIT_ARCHIVE_DIR: z.string().min(1).optional(),
    PRETRADE_BATCH_MAX: intFromEnv(1, 1_000).default(50),
    /** Post-trade: the window W around a fill within which a crossed major zone marks an exit cluster-affected (sim default 60 s). */
    POSTTRADE_WINDOW_MS: intFromEnv(10_000, 86_400_000).optional(),
    POSTTRADE_RETENTION_MS: intFromEnv(86_400_000, 3_650 * 86_400_000).default(90 * 86_400_000),
    /** The simulator's demo engine trades through the gate and reports fills (sim source only; on by default in development). */
    DEMO_ENGINE: z.enum(['on', 'off']).optional(),
    /** How long a decision stands (`validUntil`); an idempotent replay past it never hands out an approval. */
    DECISION_VALID_MS: intFromEnv(100, 60_000).default(5_000),
    /** Break-glass halt file, read without Redis (see README, "Trading state"). */
    HALT_FILE: z.string().min(1).optional(),
    HALT_FILE_POLL_MS: intFromEnv(50, 60_000).default(1_000),
    /** Replicas re-read the trading state this often (a missed announcement, keys that vanished). */
    TRADING_STATE_REFRESH_MS: intFromEnv(100, 60_000).default(5_000),
    INSTANCE_ID: z.string().min(1).max(128).optional(),
    ...OpsEnv,
  })
  .strict();

export type Env = z.infer<typeof EnvSchema>;

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

export interface AppConfig {
  env: Env['NODE_ENV'];
  instanceId: string;
  server: {
    host: string;
    port: number;
    logLevel: Env['LOG_LEVEL'];
    bodyLimit: number;
    shutdownTimeoutMs: number;
    startupWaitMs: number;
    http: HttpServerLimits;
  };
  /** The keyless metrics listener, when METRICS_PORT is set. */
  metrics: { port: number; host: string } | null;
  store: {
    kind: 'memory' | 'redis';
    redisUrl: string | undefined;
    keyPrefix: string;
    /** From REDIS_PASSWORD_FILE; overrides a password in the URL. Never logged. */
    redisPassword?: string | undefined;
  };
  market: {
    source: 'sim' | 'ccxt' | 'replay';
    symbols: string[];
    venues: string[];
    replayDir: string | undefined;
    pollIntervalMs: number;
    heatmapMaxAgeMs: number;
    barTimeframe: Env['BAR_TIMEFRAME'];
    /** Explicit BAR_MAX_AGE_MS, or undefined: the heatmap module derives it from the bar length. */
    barMaxAgeMs: number | undefined;
    simBarIntervalMs: number;
    simSeed: number;
  };
  cluster: { leaseTtlMs: number; historyRetentionMs: number; historyIntervalMs: number };
  auth: {
    keys: ApiKey[];
    demoKey: string | undefined;
    /** Reloading of API_KEYS_FILE (see src/auth/keys-file.ts), when the file is set. */
    reload?: { file: string; inlineSpec: string | undefined; intervalMs: number } | undefined;
  };
  posttrade: { windowMs: number; retentionMs: number; demoEngine: boolean };
  pretrade: {
    idempotencyTtlMs: number;
    decisionLookupTtlMs: number;
    auditMaxEntries: number;
    audit: {
      durability: 'primary' | 'replica';
      waitTimeoutMs: number;
      commitTimeoutMs: number;
      journalDir: string | undefined;
      journalOrphanMs: number;
      archiveDir: string | undefined;
    };
    batchMax: number;
    decisionValidMs: number;
    haltFile: string | undefined;
    haltFilePollMs: number;
    tradingStateRefreshMs: number;
  };
  policy: EffectivePolicy;
}

/**
 * `warnings`: problems that do not stop a non-production start (a near-miss variable
 * name); the server prints them loudly. In production they are errors.
 */
export type ConfigResult = { ok: true; config: AppConfig; warnings: string[] } | { ok: false; errors: string[] };

export interface ConfigIo {
  readFile(path: string): string;
  randomKey(): string;
  hostname(): string;
}

const defaultIo: ConfigIo = {
  readFile: (p) => readFileSync(p, 'utf8'),
  randomKey: () => `demo-${randomBytes(18).toString('base64url')}`,
  hostname: () => `${hostname()}-${process.pid}`,
};


function issuesToMessages(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const path = i.path.length > 0 ? i.path.join('.') : '';
    if (i.code === 'unrecognized_keys') {
      return `${prefix}${path ? `${path}: ` : ''}unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${prefix}${path || '(root)'}: ${i.message}`;
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects (arrays and scalars replace). */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** Stable JSON (sorted keys) so the policy hash does not depend on key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (isPlainObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Service-wide settings that decisions depend on (so they are part of the policy version). */
export interface PolicyServiceSettings {
  heatmapMaxAgeMs: number;
}

/** Builds the effective policy per symbol from the raw policy document (already shape-checked). */
export function resolvePolicy(
  raw: z.infer<typeof PolicyFileSchema>,
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
 * Parses the environment (and the files it names) into the service configuration.
 * Every problem is collected and returned at once.
 */
export function loadConfig(envIn: Record<string, string | undefined>, io: ConfigIo = defaultIo): ConfigResult {
  // Only our own variables are validated; the rest of the environment is not ours.
  const known = new Set(Object.keys(EnvSchema.shape));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(envIn)) {
    if (known.has(k) && v !== undefined && v !== '') env[k] = v;
  }
  const errors: string[] = [];
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) errors.push(...issuesToMessages('', parsed.error));
  const e = parsed.success ? parsed.data : undefined;

  // Files named by the environment.
  // The policy: POLICY_FILE, then POLICY_JSON merged over it (the environment wins).
  let rawPolicy: z.infer<typeof PolicyFileSchema> = {};
  if (env.POLICY_FILE) {
    try {
      const doc = parsePolicyText(env.POLICY_FILE, io.readFile(env.POLICY_FILE)) ?? {};
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
      if (pj.success) rawPolicy = deepMerge(rawPolicy, pj.data) as z.infer<typeof PolicyFileSchema>;
      else errors.push(...issuesToMessages('POLICY_JSON ', pj.error));
    }
  }
  let keys: ApiKey[] = [];
  const keySpecs: string[] = [];
  if (env.API_KEYS) keySpecs.push(env.API_KEYS);
  if (env.API_KEYS_FILE) {
    try {
      keySpecs.push(
        io
          .readFile(env.API_KEYS_FILE)
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l.length > 0 && !l.startsWith('#'))
          .join(','),
      );
    } catch (err) {
      errors.push(`API_KEYS_FILE: cannot read ${env.API_KEYS_FILE}: ${(err as Error).message}`);
    }
  }
  for (const spec of keySpecs) {
    const r = parseApiKeys(spec);
    if (r.ok) keys = keys.concat(r.keys);
    else errors.push(...r.errors.map((m) => `API_KEYS: ${m}`));
  }

  if (e) {
    const prod = e.NODE_ENV === 'production';
    if (prod && !e.MARKET_SOURCE) errors.push('MARKET_SOURCE: must be set explicitly when NODE_ENV=production');
    if (prod && !e.STORE) errors.push('STORE: must be set explicitly when NODE_ENV=production');
    // The memory store keeps the kill switch, idempotency records and the audit trail in
    // this process only: a HALT would not survive a restart (the gate would come back
    // ACTIVE), and replicas would not share any of it. Fail closed: Redis in production.
    if (prod && e.STORE === 'memory')
      errors.push(
        'STORE: "memory" cannot be used when NODE_ENV=production (the kill switch, idempotency and audit would live in one process and a HALT would not survive a restart); use STORE=redis',
      );
    if (prod && (e.MARKET_SOURCE === 'sim' || e.MARKET_SOURCE === 'replay'))
      errors.push(
        `MARKET_SOURCE: "${e.MARKET_SOURCE}" is ${e.MARKET_SOURCE === 'sim' ? 'simulated' : 'recorded historical'} data and cannot gate real orders when NODE_ENV=production`,
      );
    if (prod && keys.length === 0) errors.push('API_KEYS: at least one key is required when NODE_ENV=production');
    const storeKind = e.STORE ?? (e.REDIS_URL ? 'redis' : 'memory');
    if (storeKind === 'redis' && !e.REDIS_URL) errors.push('REDIS_URL: required when STORE=redis');
    if ((e.MARKET_SOURCE ?? 'sim') === 'replay' && !e.REPLAY_DIR)
      errors.push('REPLAY_DIR: required when MARKET_SOURCE=replay');
    if (e.DECISION_LOOKUP_TTL_MS < e.IDEMPOTENCY_TTL_MS)
      errors.push('DECISION_LOOKUP_TTL_MS: must be at least IDEMPOTENCY_TTL_MS (a replayed decision must still be readable)');
    if (e.HEATMAP_MAX_AGE_MS < e.POLL_INTERVAL_MS)
      errors.push('HEATMAP_MAX_AGE_MS: must be at least POLL_INTERVAL_MS, or every heatmap would be stale');
  }

  // A mistyped variable would leave a setting on its default without a word.
  const nearMisses = nearMissVariables(envIn, [...known]);
  const prodEnv = e?.NODE_ENV === 'production';
  if (prodEnv) errors.push(...nearMisses.map((w) => `${w} Refused when NODE_ENV=production: rename or remove it`));
  const warnings = prodEnv ? [] : nearMisses.map((w) => `${w} It is ignored.`);

  const resolved = resolvePolicy(rawPolicy, e?.SYMBOLS ?? [], { heatmapMaxAgeMs: e?.HEATMAP_MAX_AGE_MS ?? 0 });
  if (!resolved.ok) errors.push(...resolved.errors);

  const http = e ? httpServerLimits(e, errors) : undefined;
  const redisPassword = readRedisPassword(env.REDIS_PASSWORD_FILE, io, errors);

  if (errors.length > 0 || !e || !resolved.ok || !http) return { ok: false, errors };

  const demoKey = keys.length === 0 ? io.randomKey() : undefined;
  if (demoKey) keys = [{ id: 'demo', key: demoKey, scopes: ['pretrade', 'read', 'admin', 'metrics'] }];

  return {
    ok: true,
    warnings,
    config: {
      env: e.NODE_ENV,
      instanceId: e.INSTANCE_ID ?? io.hostname(),
      server: {
        host: e.HOST,
        port: e.PORT,
        logLevel: e.LOG_LEVEL,
        bodyLimit: e.BODY_LIMIT_BYTES,
        shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
        startupWaitMs: e.STARTUP_WAIT_MS,
        http,
      },
      store: {
        kind: e.STORE ?? (e.REDIS_URL ? 'redis' : 'memory'),
        redisUrl: e.REDIS_URL,
        keyPrefix: e.REDIS_KEY_PREFIX,
        redisPassword,
      },
      metrics: e.METRICS_PORT === undefined ? null : { port: e.METRICS_PORT, host: e.METRICS_HOST ?? e.HOST },
      market: {
        source: e.MARKET_SOURCE ?? 'sim',
        symbols: e.SYMBOLS,
        venues: e.VENUES,
        replayDir: e.REPLAY_DIR,
        pollIntervalMs: e.POLL_INTERVAL_MS,
        heatmapMaxAgeMs: e.HEATMAP_MAX_AGE_MS,
        barTimeframe: e.BAR_TIMEFRAME,
        barMaxAgeMs: e.BAR_MAX_AGE_MS,
        simBarIntervalMs: e.SIM_BAR_INTERVAL_MS,
        simSeed: e.SIM_SEED,
      },
      cluster: {
        leaseTtlMs: e.LEASE_TTL_MS,
        historyRetentionMs: e.HISTORY_RETENTION_MS,
        historyIntervalMs: e.HISTORY_INTERVAL_MS,
      },
      auth: {
        keys,
        demoKey,
        reload: e.API_KEYS_FILE
          ? { file: e.API_KEYS_FILE, inlineSpec: e.API_KEYS, intervalMs: e.API_KEYS_RELOAD_INTERVAL_MS }
          : undefined,
      },
      pretrade: {
        idempotencyTtlMs: e.IDEMPOTENCY_TTL_MS,
        decisionLookupTtlMs: e.DECISION_LOOKUP_TTL_MS,
        auditMaxEntries: e.AUDIT_MAX_ENTRIES,
        audit: {
          durability: e.AUDIT_DURABILITY,
          waitTimeoutMs: e.AUDIT_WAIT_TIMEOUT_MS,
          commitTimeoutMs: e.AUDIT_COMMIT_TIMEOUT_MS,
          journalDir: e.AUDIT_JOURNAL_DIR,
          journalOrphanMs: e.AUDIT_JOURNAL_ORPHAN_MS,
          archiveDir: e.AUDIT_ARCHIVE_DIR,
        },
        batchMax: e.PRETRADE_BATCH_MAX,
        decisionValidMs: e.DECISION_VALID_MS,
        haltFile: e.HALT_FILE,
        haltFilePollMs: e.HALT_FILE_POLL_MS,
        tradingStateRefreshMs: e.TRADING_STATE_REFRESH_MS,
      },
      posttrade: {
        windowMs: e.POSTTRADE_WINDOW_MS ?? ((e.MARKET_SOURCE ?? 'sim') === 'sim' ? 60_000 : 900_000),
        retentionMs: e.POSTTRADE_RETENTION_MS,
        demoEngine: (e.MARKET_SOURCE ?? 'sim') === 'sim' && (e.DEMO_ENGINE ?? (e.NODE_ENV === 'development' ? 'on' : 'off')) === 'on',
      },
      policy: resolved.policy,
    },
  };
}

/** The policy for one symbol (falls back to the defaults for a symbol not configured). */
export function policyFor(policy: EffectivePolicy, symbol: string): SymbolPolicy {
  return policy.symbols[symbol] ?? policy.defaults;
}

/** Builds a valid config for tests and tools from a partial environment. Throws on invalid input. */
export function configFromEnv(env: Record<string, string | undefined>, io?: Partial<ConfigIo>): AppConfig {
  const r = loadConfig(env, { ...defaultIo, ...io });
  if (!r.ok) throw new Error(`invalid configuration:\n  ${r.errors.join('\n  ')}`);
  return r.config;
}
