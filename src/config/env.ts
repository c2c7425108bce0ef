import { z } from 'zod';
import { BAR_TIMEFRAMES } from '../domain/market-data.js';

/** The environment: one zod schema over every variable the service reads, with its default. */

export const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;
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

/** A number from 0 to 1 written as a decimal (`0.8`). */
const fractionFromEnv = () => {
  const error = (iss: { input?: unknown }) => `must be a number from 0 to 1 (got ${JSON.stringify(String(iss.input))})`;
  return z
    .string()
    .regex(/^\s*(\d+(\.\d*)?|\.\d+)\s*$/, { error })
    .transform(Number)
    .pipe(z.number().min(0, { error }).max(1, { error }));
};

const csv = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .pipe(z.array(item).min(1, 'must list at least one value'));

/** `host:port` (a Redis node or sentinel). */
const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'must be host:port') as z.ZodType<string, string>;

/** A `host:port` list entry as ioredis takes it. */
export function parseHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

// Operations: HTTP server bounds (timeouts and caps that keep slow or idle clients from
// holding connections), startup, secrets from files. Documented in README.md
// (Configuration) and docs/operations.md.
const OpsEnv = {
  /** Redis Sentinel instead of REDIS_URL: the sentinels (host:port list) and the name they monitor the primary under. */
  REDIS_SENTINELS: csv(hostPort).optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-" only').optional(),
  /** Redis Cluster instead of REDIS_URL: seed nodes (host:port list); the client discovers the rest. */
  REDIS_CLUSTER_NODES: csv(hostPort).optional(),
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
  /** Requests one API key may make per RATE_LIMIT_WINDOW_MS (all replicas together on the redis store); beyond it 429. 0 = no limit. */
  RATE_LIMIT_PER_KEY: intFromEnv(0, 100_000_000).default(6_000),
  RATE_LIMIT_WINDOW_MS: intFromEnv(1_000, 3_600_000).default(60_000),
};

/** The request limit per API key (see OpsEnv); null when RATE_LIMIT_PER_KEY is 0. */
export interface RequestRateLimit {
  perKey: number;
  windowMs: number;
}

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

export function httpServerLimits(e: { [K in Extract<keyof typeof OpsEnv, `HTTP_${string}`>]: number }, errors: string[]): HttpServerLimits {
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
    BAR_TIMEFRAME: z.enum(BAR_TIMEFRAMES).default('5m'),
    /** A venue whose newest closed bar is older than this stops contributing (default derived from the bar length). */
    BAR_MAX_AGE_MS: intFromEnv(1_000, 86_400_000).optional(),
    SIM_BAR_INTERVAL_MS: intFromEnv(100, 3_600_000).default(3_000),
    SIM_SEED: intFromEnv(0, 2 ** 31 - 1).default(42),
    /** Correlation of the simulated symbols' returns (src/market/sim-source.ts). */
    SIM_CORRELATION: fractionFromEnv().default(0.8),
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
    /** Decision records waiting to be written past which new checks get 503 AUDIT_BACKLOG (readiness fails from a tenth). */
    AUDIT_BACKLOG_MAX: intFromEnv(1, 10_000_000).default(100_000),
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
    TRADING_STATE_REFRESH_MS: intFromEnv(50, 60_000).default(250),
    /** A replica that could not re-read the trading state for this long treats every scope as HALTED. */
    TRADING_STATE_MAX_AGE_MS: intFromEnv(1_000, 600_000).default(15_000),
    INSTANCE_ID: z.string().min(1).max(128).optional(),
    ...OpsEnv,
  })
  .strict();

export type Env = z.infer<typeof EnvSchema>;

/** zod issues as one line each, named by the path ("PORT: must be ..."). */
export function issuesToMessages(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const path = i.path.length > 0 ? i.path.join('.') : '';
    if (i.code === 'unrecognized_keys') {
      return `${prefix}${path ? `${path}: ` : ''}unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${prefix}${path || '(root)'}: ${i.message}`;
  });
}

