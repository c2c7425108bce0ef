import { defaultConfigIo, loadConfig, type AppConfig, type ConfigIo } from '../../src/config/index.js';

/** Builds a valid config for tests and tools from a partial environment. Throws on invalid input. */
export function configFromEnv(env: Record<string, string | undefined>, io?: Partial<ConfigIo>): AppConfig {
  const r = loadConfig(env, { ...defaultConfigIo, ...io });
  if (!r.ok) throw new Error(`invalid configuration:\n  ${r.errors.join('\n  ')}`);
  return r.config;
}
