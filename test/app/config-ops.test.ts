import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { io } from '../helpers/config-io.js';


describe('operations configuration (HTTP bounds, startup, secret files)', () => {
  it('when nothing is set, then every HTTP bound has its documented default', () => {
    const r = loadConfig({}, io());
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.server.http).toEqual({
      requestTimeoutMs: 10_000,
      headersTimeoutMs: 5_000,
      keepAliveTimeoutMs: 30_000,
      connectionTimeoutMs: 60_000,
      timeoutCheckIntervalMs: 1_000,
      maxConnections: 4_096,
      maxRequestsPerSocket: 10_000,
      maxHeaderBytes: 16_384,
      maxUrlLength: 4_096,
    });
    expect(r.config.server.startupWaitMs).toBe(5_000);
    expect(r.config.store.redisPassword).toBeUndefined();
  });

  it('when the headers timeout exceeds the request timeout, then it is refused naming both', () => {
    const r = loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }, io());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toContain('HTTP_HEADERS_TIMEOUT_MS: must be at most HTTP_REQUEST_TIMEOUT_MS');
  });

  it('when REDIS_PASSWORD_FILE names a file, then its first line is the password', () => {
    const r = loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD_FILE: '/s/pw' }, io({ '/s/pw': 's3cret-pw\n' }));
    expect(r.ok && r.config.store.redisPassword).toBe('s3cret-pw');
  });

  it('when REDIS_PASSWORD_FILE is missing or empty, then it is refused naming the variable', () => {
    const missing = loadConfig({ REDIS_PASSWORD_FILE: '/s/none' }, io());
    const empty = loadConfig({ REDIS_PASSWORD_FILE: '/s/pw' }, io({ '/s/pw': '\n' }));
    expect(!missing.ok && missing.errors.join()).toMatch(/^REDIS_PASSWORD_FILE: cannot read \/s\/none/);
    expect(!empty.ok && empty.errors.join()).toBe('REDIS_PASSWORD_FILE: /s/pw is empty');
  });
});

describe('Redis topology configuration (Sentinel, Cluster)', () => {
  const errorsOf = (env: Record<string, string>) => {
    const r = loadConfig(env, io());
    return r.ok ? [] : r.errors;
  };

  it('when sentinels and a name are given, then the store is Redis through Sentinel', () => {
    const r = loadConfig({ REDIS_SENTINELS: 's1:26379, s2:26380', REDIS_SENTINEL_NAME: 'liqgate' }, io());
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.store.kind).toBe('redis');
    expect(r.config.store.redisTopology).toEqual({ kind: 'sentinel', name: 'liqgate', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }] });
  });

  it('when cluster nodes are given, then the store is a Redis Cluster', () => {
    const r = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000' }, io());
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.store.redisTopology).toEqual({ kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }] });
  });

  it('when the topology is ambiguous or incomplete, then the config is refused and says why', () => {
    expect(errorsOf({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:1' }).join()).toMatch(/set only one way to reach Redis/);
    expect(errorsOf({ REDIS_SENTINELS: 'a:1' }).join()).toMatch(/REDIS_SENTINEL_NAME: required/);
    expect(errorsOf({ REDIS_SENTINELS: 'a' , REDIS_SENTINEL_NAME: 'x' }).join()).toMatch(/REDIS_SENTINELS.*host:port/);
    expect(errorsOf({ REDIS_CLUSTER_NODES: 'a:1', AUDIT_DURABILITY: 'replica' }).join()).toMatch(/AUDIT_DURABILITY/);
  });
});
