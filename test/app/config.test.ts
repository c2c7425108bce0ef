import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigIo } from '../../src/config.js';

function io(files: Record<string, string> = {}): ConfigIo {
  return {
    readFile: (p) => {
      const f = files[p];
      if (f === undefined) throw new Error('ENOENT: no such file');
      return f;
    },
    randomKey: () => 'demo-generated-key-123',
    hostname: () => 'host-1',
  };
}

const PROD_OK = {
  NODE_ENV: 'production',
  MARKET_SOURCE: 'ccxt',
  STORE: 'redis',
  REDIS_URL: 'redis://redis:6379',
  API_KEYS: 'engine=k-engine-0001:pretrade,desk=k-desk-00001:read',
};

describe('configuration', () => {
  it('when nothing is configured, then the demo runs on the simulator and memory store with a generated demo key', () => {
    const r = loadConfig({}, io());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.market.source).toBe('sim');
    expect(r.config.store.kind).toBe('memory');
    expect(r.config.market.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(r.config.server.port).toBe(8080);
    expect(r.config.auth.demoKey).toBe('demo-generated-key-123');
    expect(r.config.auth.keys[0]?.scopes).toEqual(['pretrade', 'read', 'admin']);
  });

  it('when REDIS_URL is set, then the Redis store is used', () => {
    const r = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }, io());
    expect(r.ok && r.config.store.kind).toBe('redis');
  });

  it('when several values are invalid, then every one is reported by name at once', () => {
    const r = loadConfig(
      { PORT: 'eighty', LOG_LEVEL: 'loud', MARKET_SOURCE: 'magic', SYMBOLS: 'btc-usdt', REDIS_URL: 'http://x' },
      io(),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.errors.join('\n');
    for (const name of ['PORT', 'LOG_LEVEL', 'MARKET_SOURCE', 'SYMBOLS', 'REDIS_URL']) expect(text).toContain(name);
  });

  it('when NODE_ENV=production and the source, store or keys are not named, then startup is refused for each', () => {
    const r = loadConfig({ NODE_ENV: 'production' }, io());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.errors.join('\n');
    expect(text).toContain('MARKET_SOURCE');
    expect(text).toContain('STORE');
    expect(text).toContain('API_KEYS');
  });

  it('when NODE_ENV=production names the simulator, then startup is refused: real orders are never gated on simulated data', () => {
    const r = loadConfig({ ...PROD_OK, MARKET_SOURCE: 'sim' }, io());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join('\n')).toMatch(/MARKET_SOURCE.*sim/);
  });

  it('when NODE_ENV=production names the replay source, then startup is refused: recorded data is not the live market', () => {
    const r = loadConfig({ ...PROD_OK, MARKET_SOURCE: 'replay', REPLAY_DIR: '/data' }, io());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join('\n')).toMatch(/MARKET_SOURCE.*replay/);
  });

  it('when production is fully named, then it starts with no demo key', () => {
    const r = loadConfig(PROD_OK, io());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.auth.demoKey).toBeUndefined();
    expect(r.config.auth.keys.map((k) => k.id)).toEqual(['engine', 'desk']);
  });

  it('when API_KEYS names an unknown scope or a short key, then the entry is reported', () => {
    const r = loadConfig({ API_KEYS: 'longenough1:trade,short:read' }, io());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join('\n')).toMatch(/API_KEYS: .*unknown scope/);
    expect(r.errors.join('\n')).toMatch(/API_KEYS: .*8-256 characters/);
  });

  it('when keys come from API_KEYS_FILE, then comment lines are skipped and keys are loaded', () => {
    const r = loadConfig({ API_KEYS_FILE: '/keys' }, io({ '/keys': '# engines\nengine=abcdefgh123:pretrade\n' }));
    expect(r.ok && r.config.auth.keys.map((k) => k.id)).toEqual(['engine']);
  });

  it('when the policy file has unknown keys, then each is reported with its path', () => {
    const r = loadConfig(
      { POLICY_FILE: '/p.yaml' },
      io({ '/p.yaml': 'pretrade: {}\nmodle: {}\nsymbols:\n  BTCUSDT:\n    pretrade: {}\n    colour: red\n' }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.errors.join('\n');
    expect(text).toContain('"modle"');
    expect(text).toContain('"colour"');
  });

  it('when the policy file names a symbol not in SYMBOLS, then it is reported', () => {
    const r = loadConfig({ POLICY_FILE: '/p.json' }, io({ '/p.json': '{"symbols":{"DOGEUSDT":{}}}' }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join('\n')).toContain('DOGEUSDT');
  });

  it('when the policy file is missing, then the error names POLICY_FILE', () => {
    const r = loadConfig({ POLICY_FILE: '/missing.yaml' }, io());
    expect(!r.ok && r.errors.join('\n')).toContain('POLICY_FILE');
  });

  it('when the same policy is written with keys in another order, then its version hash is the same', () => {
    const a = loadConfig({ POLICY_FILE: '/a.json' }, io({ '/a.json': '{"pretrade":{},"model":{}}' }));
    const b = loadConfig({ POLICY_FILE: '/b.json' }, io({ '/b.json': '{"model":{},"pretrade":{}}' }));
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.config.policy.version).toBe(b.config.policy.version);
    expect(a.config.policy.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('when HEATMAP_MAX_AGE_MS is below POLL_INTERVAL_MS, then it is refused', () => {
    const r = loadConfig({ POLL_INTERVAL_MS: '10000', HEATMAP_MAX_AGE_MS: '5000' }, io());
    expect(!r.ok && r.errors.join('\n')).toContain('HEATMAP_MAX_AGE_MS');
  });

  it('when variables that are not ours are in the environment, then they are ignored', () => {
    const r = loadConfig({ PATH: '/usr/bin', HOME: '/root', npm_config_x: 'y' }, io());
    expect(r.ok).toBe(true);
  });
});
