import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { io } from '../helpers/config-io.js';
import { BINANCE_MAINTENANCE_MARGIN } from '../../src/domain/margin.js';


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
    expect(r.config.auth.keys[0]?.scopes).toEqual(['pretrade', 'read', 'admin', 'metrics']);
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

  it('when NODE_ENV=production names the memory store, then startup is refused: a HALT must survive a restart', () => {
    const r = loadConfig({ ...PROD_OK, STORE: 'memory' }, io());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join('\n')).toMatch(/STORE: "memory" cannot be used when NODE_ENV=production/);
  });

  describe('policy versioning', () => {
    const version = (env: Record<string, string>, files: Record<string, string> = {}): string => {
      const r = loadConfig(env, io(files));
      if (!r.ok) throw new Error(r.errors.join('\n'));
      return r.config.policy.version;
    };

    it('when a rule value changes, globally or for one symbol, then the version changes', () => {
      const base = version({});
      expect(version({ POLICY_JSON: '{"pretrade":{"noTradeBufferBps":31}}' })).not.toBe(base);
      expect(version({ POLICY_JSON: '{"symbols":{"ETHUSDT":{"pretrade":{"noTradeBufferBps":31}}}}' })).not.toBe(base);
    });

    it('when a rule is set to its default value, then the version is that of the defaults (the effective policy is hashed)', () => {
      expect(version({ POLICY_JSON: '{"pretrade":{"maxNotionalUsd":1000000}}' })).toBe(version({}));
    });

    it('when HEATMAP_MAX_AGE_MS changes, then the version changes: it decides what is stale', () => {
      expect(version({ HEATMAP_MAX_AGE_MS: '60000' })).not.toBe(version({ HEATMAP_MAX_AGE_MS: '90000' }));
    });
  });

  describe('policy from the environment (POLICY_JSON)', () => {
    it('when POLICY_JSON and POLICY_FILE are both set, then the environment is merged over the file', () => {
      const r = loadConfig(
        {
          POLICY_FILE: '/p.yaml',
          POLICY_JSON: '{"pretrade":{"maxNotionalUsd":250000},"symbols":{"BTCUSDT":{"pretrade":{"noTradeBufferBps":45}}}}',
        },
        io({ '/p.yaml': 'pretrade:\n  maxNotionalUsd: 500000\n  noTradeBufferBps: 20\nsymbols:\n  ETHUSDT:\n    pretrade:\n      maxNotionalUsd: 100000\n' }),
      );
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const { defaults, symbols } = r.config.policy;
      expect(defaults.pretrade.maxNotionalUsd).toBe(250_000);
      expect(defaults.pretrade.noTradeBufferBps).toBe(20);
      expect(symbols.BTCUSDT?.pretrade).toMatchObject({ maxNotionalUsd: 250_000, noTradeBufferBps: 45 });
      expect(symbols.ETHUSDT?.pretrade).toMatchObject({ maxNotionalUsd: 100_000, noTradeBufferBps: 20 });
    });

    it('when POLICY_JSON is not JSON or has an unknown or invalid key, then each problem is named', () => {
      const bad = loadConfig({ POLICY_JSON: '{pretrade:' }, io());
      expect(!bad.ok && bad.errors.join('\n')).toMatch(/POLICY_JSON: not valid JSON/);
      const unknown = loadConfig({ POLICY_JSON: '{"pretrad":{}}' }, io());
      expect(!unknown.ok && unknown.errors.join('\n')).toMatch(/POLICY_JSON .*"pretrad"/);
      const invalid = loadConfig({ POLICY_JSON: '{"pretrade":{"maxNotionalUsd":-5}}' }, io());
      expect(!invalid.ok && invalid.errors.join('\n')).toMatch(/policy pretrade\.maxNotionalUsd/);
    });
  });

  describe('maintenance margin (one per symbol, read by the model and the gate)', () => {
    it('when nothing is set, then BTCUSDT and ETHUSDT get Binance\'s bracket tables and the defaults one 0.4% tier', () => {
      const r = loadConfig({}, io());
      expect(r.ok && r.config.policy.symbols.BTCUSDT?.maintenanceMargin).toEqual(BINANCE_MAINTENANCE_MARGIN.BTCUSDT);
      expect(r.ok && r.config.policy.symbols.ETHUSDT?.maintenanceMargin).toEqual(BINANCE_MAINTENANCE_MARGIN.ETHUSDT);
      expect(r.ok && r.config.policy.defaults.maintenanceMargin).toEqual([{ upToNotionalUsd: null, rate: 0.004, maxLeverage: null }]);
    });

    it('when a symbol sets its own, then it replaces the global one for that symbol only', () => {
      const r = loadConfig({ POLICY_JSON: '{"maintenanceMargin":[{"rate":0.005}],"symbols":{"ETHUSDT":{"maintenanceMargin":[{"rate":0.008}]}}}' }, io());
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.config.policy.symbols.BTCUSDT?.maintenanceMargin[0]?.rate).toBe(0.005);
      expect(r.config.policy.symbols.ETHUSDT?.maintenanceMargin[0]?.rate).toBe(0.008);
    });

    it('when a model leverage tier would be liquidatable as it opens, or the old per-section knob is used, then each is named', () => {
      const tiers = loadConfig({ POLICY_JSON: '{"symbols":{"ETHUSDT":{"maintenanceMargin":[{"rate":0.02}]}}}' }, io());
      expect(!tiers.ok && tiers.errors.join('\n')).toMatch(/policy symbols\.ETHUSDT\.model\.leverage\.tiers\.3: leverage 50 leaves no margin/);
      const old = loadConfig({ POLICY_JSON: '{"pretrade":{"maintenanceMarginRate":0.005}}' }, io());
      expect(!old.ok && old.errors.join('\n')).toMatch(/"maintenanceMarginRate"/);
      const bad = loadConfig({ POLICY_JSON: '{"maintenanceMargin":[{"rate":-1}]}' }, io());
      expect(!bad.ok && bad.errors.join('\n')).toMatch(/policy maintenanceMargin\.0\.rate/);
    });
  });

  it('when HEATMAP_MAX_AGE_MS is below POLL_INTERVAL_MS, then it is refused', () => {
    const r = loadConfig({ POLL_INTERVAL_MS: '10000', HEATMAP_MAX_AGE_MS: '5000' }, io());
    expect(!r.ok && r.errors.join('\n')).toContain('HEATMAP_MAX_AGE_MS');
  });

  it('when variables that are not ours are in the environment, then they are ignored', () => {
    const r = loadConfig({ PATH: '/usr/bin', HOME: '/root', npm_config_x: 'y' }, io());
    expect(r.ok).toBe(true);
  });

  describe('numeric variables state their allowed range', () => {
    it.each([
      ['PORT', 'eighty', 'PORT: must be an integer from 0 to 65535 (got "eighty")'],
      ['HEATMAP_MAX_AGE_MS', '500', 'HEATMAP_MAX_AGE_MS: must be an integer from 1000 to 86400000 (got "500")'],
      ['SIM_SEED', '1.5', 'SIM_SEED: must be an integer from 0 to 2147483647 (got "1.5")'],
      ['PRETRADE_BATCH_MAX', '1e3', 'PRETRADE_BATCH_MAX: must be an integer from 1 to 1000 (got "1e3")'],
      ['DECISION_VALID_MS', '99', 'DECISION_VALID_MS: must be an integer from 100 to 60000 (got "99")'],
      ['SIM_CORRELATION', '1.2', 'SIM_CORRELATION: must be a number from 0 to 1 (got "1.2")'],
      ['SIM_CORRELATION', 'high', 'SIM_CORRELATION: must be a number from 0 to 1 (got "high")'],
    ])('when %s is %j, then the error states the range and the value', (name, value, message) => {
      const r = loadConfig({ [name]: value }, io());
      expect(!r.ok && r.errors).toContain(message);
    });
  });

  it('when SIM_CORRELATION is unset or a decimal from 0 to 1, then the simulator gets it (0.8 by default)', () => {
    const at = (v?: string) => {
      const r = loadConfig(v === undefined ? {} : { SIM_CORRELATION: v }, io());
      return r.ok ? r.config.market.simCorrelation : r.errors;
    };
    expect(at()).toBe(0.8);
    expect(at('0.55')).toBe(0.55);
    expect(at('0')).toBe(0);
    expect(at('1')).toBe(1);
    expect(at('.3')).toBe(0.3);
  });

  describe('near-miss variable names', () => {
    it('when a variable is a typo, another case or a reordering of one of ours, then each is a warning naming ours', () => {
      const r = loadConfig({ REDIS_ULR: 'redis://x:1', log_level: 'debug', PREFIX_REDIS_KEY: 'x:', REDIS_PREFIX: 'y:' }, io());
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.warnings).toEqual([
        expect.stringMatching(/^PREFIX_REDIS_KEY: .*did you mean REDIS_KEY_PREFIX\?/),
        expect.stringMatching(/^REDIS_PREFIX: .*did you mean REDIS_KEY_PREFIX\?/),
        expect.stringMatching(/^REDIS_ULR: .*did you mean REDIS_URL\?/),
        expect.stringMatching(/^log_level: .*did you mean LOG_LEVEL\?/),
      ]);
    });

    it('when NODE_ENV=production and a variable is a near miss, then startup is refused naming it', () => {
      const r = loadConfig({ ...PROD_OK, HEATMAP_MAX_AGE: '90000' }, io());
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.errors.join('\n')).toMatch(/HEATMAP_MAX_AGE: .*did you mean HEATMAP_MAX_AGE_MS\?.*NODE_ENV=production/);
    });

    it('when the platform injects service variables or the shell has its usual ones, then nothing is reported', () => {
      const r = loadConfig(
        {
          ...PROD_OK,
          KUBERNETES_SERVICE_HOST: '10.0.0.1',
          LIQ_GATE_SERVICE_HOST: '10.0.0.2',
          LIQ_GATE_SERVICE_PORT_HTTP: '8080',
          LIQ_GATE_PORT: 'tcp://10.0.0.2:8080',
          REDIS_PORT: 'tcp://10.0.0.3:6379',
          REDIS_PORT_6379_TCP_ADDR: '10.0.0.3',
          HOME: '/home/node',
          HOSTNAME: 'gate-7d9f',
          PATH: '/usr/bin',
          NODE_VERSION: '20.19.0',
        },
        io(),
      );
      expect(r.ok && r.warnings).toEqual([]);
    });
  });
});
