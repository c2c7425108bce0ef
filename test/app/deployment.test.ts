import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, loadConfig } from '../../src/config.js';

const root = new URL('../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
  services: Record<string, { environment?: Record<string, string>; secrets?: string[] }>;
};

describe('deployment files (no Docker engine here, so they are checked by parsing)', () => {
  const gateEnv = compose.services.gate?.environment ?? {};

  it('when docker-compose sets a variable on the gate, then the config schema knows it', () => {
    const known = new Set(Object.keys(EnvSchema.shape));
    const unknown = Object.keys(gateEnv).filter((k) => !known.has(k));
    expect(unknown).toEqual([]);
  });

  it('when the compose environment is loaded, then it is a valid production config on the live source and Redis', () => {
    const r = loadConfig(gateEnv, {
      readFile: (p) => {
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
  });

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
