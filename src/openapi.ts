import { buildApp } from './app.js';
import { defaultConfigIo, loadConfig } from './config/index.js';
import { createLogger } from './logger.js';

/**
 * Builds the OpenAPI document from the route schemas, with a fixed configuration so the
 * result depends on the code only. Used by `npm run openapi:generate` and the drift test.
 */
export async function generateOpenApiDocument(): Promise<unknown> {
  const loaded = loadConfig(
    { NODE_ENV: 'test', API_KEYS: 'doc=openapi-doc-key:read', SYMBOLS: 'BTCUSDT', LOG_LEVEL: 'silent' },
    { ...defaultConfigIo, hostname: () => 'openapi', randomKey: () => 'unused' },
  );
  if (!loaded.ok) throw new Error(`invalid configuration:\n  ${loaded.errors.join('\n  ')}`);
  const { config } = loaded;
  const app = await buildApp(config, {
    clock: () => 0,
    logger: createLogger('silent'),
    redis: null,
    marketSource: null,
  });
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}

export function serializeOpenApi(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
