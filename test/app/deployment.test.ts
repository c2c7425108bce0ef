import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema } from '../../src/config/env.js';
import { loadConfig } from '../../src/config/index.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface ComposeService {
  image?: string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  ports?: string[];
  profiles?: string[];
  expose?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
};
/** Redis config directives, `name -> value`, from deploy/redis/redis.conf. */
const redisConf = new Map(
  read('deploy/redis/redis.conf')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => [l.split(/\s+/)[0] ?? '', l.slice((l.split(/\s+/)[0] ?? '').length).trim()] as const),
);
const haproxyCfg = read('deploy/haproxy/haproxy.cfg');
/** Node's own variables the compose file may set on the gate; the service's config ignores them. */
const NODE_RUNTIME_VARS = new Set(['UV_THREADPOOL_SIZE', 'NODE_OPTIONS']);

describe('deployment files (no Docker engine here, so they are checked by parsing)', () => {
  const gateEnv = compose.services.gate?.environment ?? {};

  it('when docker-compose sets a variable on the gate, then the config schema knows it', () => {
    const known = new Set(Object.keys(EnvSchema.shape));
    const unknown = Object.keys(gateEnv).filter((k) => !known.has(k) && !NODE_RUNTIME_VARS.has(k));
    expect(unknown).toEqual([]);
  });

  it('when the compose environment is loaded, then it is a valid production config on the live source and Redis', () => {
    const r = loadConfig(gateEnv, {
      readFile: (p) => {
        if (p === '/run/secrets/redis_password') return 'example-redis-password\n';
        expect(p).toBe('/run/secrets/api_keys');
        return 'engine=example-engine-key-01:pretrade\ndesk=example-desk-key-0001:read\n';
      },
      randomKey: () => 'unused',
      hostname: () => 'gate-1',
    });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.env).toBe('production');
    expect(r.config.market.source).toBe('ccxt');
    expect(r.config.store.kind).toBe('redis');
    expect(r.config.auth.demoKey).toBeUndefined();
    expect(r.config.store.redisPassword).toBe('example-redis-password');
  });

  it('when the gate reads a secret file, then compose mounts that secret into the gate', () => {
    const files = Object.entries(gateEnv)
      .filter(([k]) => k.endsWith('_FILE'))
      .map(([, v]) => v);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(f).toMatch(/^\/run\/secrets\//);
      const name = f.replace('/run/secrets/', '');
      expect(compose.services.gate?.secrets).toContain(name);
      expect(compose.secrets?.[name]?.file).toMatch(/^\.\/secrets\//);
    }
    expect(Object.values(gateEnv).join(' ')).not.toMatch(/redis:\/\/[^@/]*@/); // no password in REDIS_URL
  });

  it('when Redis runs in compose, then it persists (AOF, a volume), never evicts, and requires the secret password', () => {
    const redis = compose.services.redis ?? {};
    expect(redisConf.get('appendonly')).toBe('yes');
    expect(['everysec', 'always']).toContain(redisConf.get('appendfsync'));
    expect(redisConf.get('maxmemory')).toMatch(/^\d+[kmg]b$/);
    expect(redisConf.get('maxmemory-policy')).toBe('noeviction');
    expect(redisConf.get('dir')).toBe('/data');
    expect(redis.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/^redis-data:\/data$/)]));
    expect(compose.volumes).toHaveProperty('redis-data');
    expect(redis.volumes).toEqual(
      expect.arrayContaining(['./deploy/redis/redis.conf:/usr/local/etc/redis/redis.conf:ro']),
    );
    // The password comes from the secret, through start.sh, never from the compose file.
    expect(redis.secrets).toContain('redis_password');
    expect(redis.entrypoint?.join(' ')).toContain('start.sh');
    const start = read('deploy/redis/start.sh');
    expect(start).toContain('/run/secrets/redis_password');
    expect(start).toMatch(/requirepass/);
    expect(start).toContain('redis-server /usr/local/etc/redis/redis.conf');
    expect(redis.healthcheck?.test.join(' ')).toContain('REDISCLI_AUTH');
    expect(redisConf.has('requirepass')).toBe(false);
  });

  it('when the monitoring profile runs, then Prometheus scrapes every replica\'s metrics port with the alert rules, Grafana gets the dashboard, and both publish on localhost only', () => {
    const prom = compose.services.prometheus ?? {};
    const grafana = compose.services.grafana ?? {};
    expect(prom.profiles).toEqual(['monitoring']);
    expect(grafana.profiles).toEqual(['monitoring']);
    for (const s of [prom, grafana]) for (const p of s.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
    expect(prom.volumes).toContain('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(grafana.volumes?.some((v) => v.startsWith('./deploy/grafana/liq-gate-dashboard.json:'))).toBe(true);
    const promCfg = readFileSync(new URL('../../deploy/prometheus/prometheus.yml', import.meta.url), 'utf8');
    expect(promCfg).toMatch(new RegExp(`names: \\['gate'\\][\\s\\S]*port: ${gateEnv.METRICS_PORT}`));
    expect(compose.services.gate?.expose).toContain(gateEnv.METRICS_PORT);
  });

  it('when the stack runs, then only the load balancer publishes a port, and it routes on /health/ready to the gate service', () => {
    const published = Object.entries(compose.services).filter(([, s]) => (s.ports ?? []).length > 0 && !s.profiles);
    expect(published.map(([name]) => name)).toEqual(['lb']);
    expect(compose.services.lb?.ports).toEqual(['8080:8080']);
    expect(compose.services.lb?.volumes).toContain('./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect(haproxyCfg).toMatch(/^\s*bind :8080$/m);
    expect(haproxyCfg).toMatch(/http-check send meth GET uri \/health\/ready\b/);
    expect(haproxyCfg).toMatch(/http-check expect status 200/);
    const template = /^\s*server-template \S+ \d+ (\S+):(\d+) check\b/m.exec(haproxyCfg);
    expect(template?.[1]).toBe('gate');
    expect(template?.[2]).toBe(gateEnv.PORT);
    // The LB cuts slow clients before the gate does, and its keep-alive is shorter than the gate's.
    const seconds = (name: string) => Number(new RegExp(`timeout ${name} (\\d+)s`).exec(haproxyCfg)?.[1]);
    expect(seconds('http-request') * 1000).toBeLessThanOrEqual(Number(gateEnv.HTTP_HEADERS_TIMEOUT_MS));
    expect(seconds('http-keep-alive') * 1000).toBeLessThan(Number(gateEnv.HTTP_KEEP_ALIVE_TIMEOUT_MS));
  });

  const haproxy = spawnSync('haproxy', ['-v']).status === 0;
  it.skipIf(!haproxy && !process.env.CI)(
    'when the haproxy binary is installed (skipped otherwise, never in CI), then `haproxy -c` accepts the load balancer config',
    () => {
      const r = spawnSync('haproxy', ['-c', '-f', fileURLToPath(new URL('deploy/haproxy/haproxy.cfg', root))], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toContain('Configuration file is valid');
      expect(r.status).toBe(0);
    },
  );

  it('when the Dockerfile builds, then the runtime stage is slim, non-root, production and health-checked', () => {
    const text = readFileSync(new URL('Dockerfile', root), 'utf8');
    const runtime = text.slice(text.indexOf('AS runtime'));
    expect(text).toMatch(/FROM .* AS build/);
    expect(runtime).toContain('npm ci --omit=dev');
    expect(runtime).toContain('USER node');
    expect(runtime).toContain('NODE_ENV=production');
    expect(runtime).toMatch(/HEALTHCHECK[\s\S]*\/health\/live/);
  });
});
