import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseApiKeys, type ApiKey } from '../auth/api-keys.js';
import { parseApiKeysFile } from '../auth/keys-file.js';
import { EnvSchema, httpServerLimits, issuesToMessages, parseHostPort, type Env, type HttpServerLimits, type RequestRateLimit } from './env.js';
import { ExposurePolicySchema, type ExposurePolicy } from '../domain/exposure/policy.js';
import { nearMissVariables } from './near-miss.js';
import { readPolicyDocument, resolvePolicy, type EffectivePolicy } from './policy.js';

/**
 * Configuration: the environment (env.ts) plus an optional policy document (policy.ts).
 * `loadConfig` collects every problem before failing, names each variable, and never
 * reads `process.env` itself: the server entry passes the environment in.
 */

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
    /** Requests per API key per window, shared by the replicas on the redis store; null = none. */
    rateLimit: RequestRateLimit | null;
  };
  /** The keyless metrics listener, when METRICS_PORT is set. */
  metrics: { port: number; host: string } | null;
  store: {
    kind: 'memory' | 'redis';
    redisUrl: string | undefined;
    keyPrefix: string;
    /** From REDIS_PASSWORD_FILE; overrides a password in the URL. Never logged. */
    redisPassword?: string | undefined;
    /** How the Redis is reached: the one URL, through Sentinel, or as a Cluster (REDIS_SENTINELS, REDIS_CLUSTER_NODES). */
    redisTopology?: RedisTopology;
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
    /** Correlation of the simulated symbols' returns (SIM_CORRELATION). */
    simCorrelation: number;
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
    auditBacklogMax: number;
    batchMax: number;
    decisionValidMs: number;
    haltFile: string | undefined;
    haltFilePollMs: number;
    tradingStateRefreshMs: number;
    tradingStateMaxAgeMs: number;
  };
  policy: EffectivePolicy;
  /** Account exposure limits (the policy document's `exposure` section). */
  exposure: ExposurePolicy;
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

export const defaultConfigIo: ConfigIo = {
  readFile: (p) => readFileSync(p, 'utf8'),
  randomKey: () => `demo-${randomBytes(18).toString('base64url')}`,
  hostname: () => `${hostname()}-${process.pid}`,
};

/** The Redis password from REDIS_PASSWORD_FILE (first line, trimmed), or undefined. */
/** How the service reaches Redis. */
export type RedisTopology =
  | { kind: 'single' }
  | { kind: 'sentinel'; sentinels: { host: string; port: number }[]; name: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[] };

const hasRedis = (e: Env) => Boolean(e.REDIS_URL || e.REDIS_SENTINELS || e.REDIS_CLUSTER_NODES);

function redisTopology(e: Env): RedisTopology {
  if (e.REDIS_SENTINELS && e.REDIS_SENTINEL_NAME) return { kind: 'sentinel', sentinels: e.REDIS_SENTINELS.map(parseHostPort), name: e.REDIS_SENTINEL_NAME };
  if (e.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: e.REDIS_CLUSTER_NODES.map(parseHostPort) };
  return { kind: 'single' };
}

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
/**
 * Parses the environment (and the files it names) into the service configuration.
 * Every problem is collected and returned at once.
 */
export function loadConfig(envIn: Record<string, string | undefined>, io: ConfigIo = defaultConfigIo): ConfigResult {
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

  const rawPolicy = readPolicyDocument(env, io.readFile, errors);
  let keys: ApiKey[] = [];
  const keyFiles: ReturnType<typeof parseApiKeys>[] = [];
  if (env.API_KEYS) keyFiles.push(parseApiKeys(env.API_KEYS));
  if (env.API_KEYS_FILE) {
    try {
      keyFiles.push(parseApiKeysFile(io.readFile(env.API_KEYS_FILE)));
    } catch (err) {
      errors.push(`API_KEYS_FILE: cannot read ${env.API_KEYS_FILE}: ${(err as Error).message}`);
    }
  }
  for (const r of keyFiles) {
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
    const storeKind = e.STORE ?? (hasRedis(e) ? 'redis' : 'memory');
    if (storeKind === 'redis' && !hasRedis(e)) errors.push('REDIS_URL: required when STORE=redis (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES)');
    const ways = [e.REDIS_URL && 'REDIS_URL', e.REDIS_SENTINELS && 'REDIS_SENTINELS', e.REDIS_CLUSTER_NODES && 'REDIS_CLUSTER_NODES'].filter(Boolean);
    if (ways.length > 1) errors.push(`${ways.join(', ')}: set only one way to reach Redis`);
    if (e.REDIS_SENTINELS && !e.REDIS_SENTINEL_NAME) errors.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name the sentinels monitor)');
    if (e.REDIS_SENTINEL_NAME && !e.REDIS_SENTINELS) errors.push('REDIS_SENTINEL_NAME: only meaningful with REDIS_SENTINELS');
    // WAIT counts the replicas of the node it is sent to; a Cluster client sends a keyless
    // command to any node, so the count would not be about the audit stream's primary.
    if (e.REDIS_CLUSTER_NODES && e.AUDIT_DURABILITY === 'replica')
      errors.push('AUDIT_DURABILITY: "replica" is not supported with REDIS_CLUSTER_NODES; use "primary" with appendfsync always on every primary');
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

  const exposure = ExposurePolicySchema.safeParse(rawPolicy.exposure ?? {});
  if (!exposure.success) errors.push(...issuesToMessages('policy exposure.', exposure.error));

  // The exposure policy is hashed into the policy version too (with its defaults when it did not parse: the config fails anyway).
  const resolved = resolvePolicy(rawPolicy, e?.SYMBOLS ?? [], { heatmapMaxAgeMs: e?.HEATMAP_MAX_AGE_MS ?? 0 }, exposure.success ? exposure.data : ExposurePolicySchema.parse({}));
  if (!resolved.ok) errors.push(...resolved.errors);

  const http = e ? httpServerLimits(e, errors) : undefined;
  const redisPassword = readRedisPassword(env.REDIS_PASSWORD_FILE, io, errors);

  if (errors.length > 0 || !e || !resolved.ok || !http || !exposure.success) return { ok: false, errors };

  const demoKey = keys.length === 0 ? io.randomKey() : undefined;
  if (demoKey) keys = [{ id: 'demo', key: demoKey, scopes: ['pretrade', 'read', 'admin', 'metrics'], accounts: ['*'] }];

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
        rateLimit: e.RATE_LIMIT_PER_KEY === 0 ? null : { perKey: e.RATE_LIMIT_PER_KEY, windowMs: e.RATE_LIMIT_WINDOW_MS },
      },
      store: {
        kind: e.STORE ?? (hasRedis(e) ? 'redis' : 'memory'),
        redisUrl: e.REDIS_URL,
        keyPrefix: e.REDIS_KEY_PREFIX,
        redisPassword,
        redisTopology: redisTopology(e),
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
        simCorrelation: e.SIM_CORRELATION,
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
        auditBacklogMax: e.AUDIT_BACKLOG_MAX,
        batchMax: e.PRETRADE_BATCH_MAX,
        decisionValidMs: e.DECISION_VALID_MS,
        haltFile: e.HALT_FILE,
        haltFilePollMs: e.HALT_FILE_POLL_MS,
        tradingStateRefreshMs: e.TRADING_STATE_REFRESH_MS,
        tradingStateMaxAgeMs: e.TRADING_STATE_MAX_AGE_MS,
      },
      posttrade: {
        windowMs: e.POSTTRADE_WINDOW_MS ?? ((e.MARKET_SOURCE ?? 'sim') === 'sim' ? 60_000 : 900_000),
        retentionMs: e.POSTTRADE_RETENTION_MS,
        demoEngine: (e.MARKET_SOURCE ?? 'sim') === 'sim' && (e.DEMO_ENGINE ?? (e.NODE_ENV === 'development' ? 'on' : 'off')) === 'on',
      },
      policy: resolved.policy,
      exposure: exposure.data,
    },
  };
}

