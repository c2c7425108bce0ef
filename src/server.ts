/**
 * The process entry: the only code that reads the environment, listens and handles
 * signals. Everything else is built by buildApp(config, deps).
 */
import { createServer, type Server } from 'node:http';
import { buildApp } from './app.js';
import { metricsRequestHandler } from './routes/metrics.js';
import { createMetrics } from './metrics.js';
import { loadConfig } from './config/index.js';
import { createInfra } from './infra.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  const result = loadConfig(process.env);
  if (!result.ok) {
    process.stderr.write(
      `liq-gate: invalid configuration (${result.errors.length} problem${result.errors.length === 1 ? '' : 's'}):\n` +
        result.errors.map((e) => `  - ${e}`).join('\n') +
        '\n',
    );
    process.exitCode = 1;
    return;
  }
  const config = result.config;
  const logger = createLogger(config.server.logLevel);
  for (const w of result.warnings) {
    process.stderr.write(`liq-gate: WARNING: ${w}\n`);
    logger.warn({ configWarning: w }, 'suspicious environment variable');
  }
  let infra;
  try {
    infra = await createInfra(config, logger);
  } catch (err) {
    logger.fatal({ err: { message: (err as Error).message } }, 'startup failed');
    process.stderr.write(`liq-gate: startup failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  // Ours, so the metrics port serves the same registry as GET /metrics.
  const metrics = createMetrics({ defaultLabels: { instance: config.instanceId } });
  const app = await buildApp(config, { ...infra.deps, metrics });
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  let metricsServer: Server | null = null;
  if (config.metrics) {
    const { host, port } = config.metrics;
    const server = createServer(metricsRequestHandler(metrics));
    metricsServer = server;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
    logger.info({ host, port }, 'metrics listening (no key needed on this port)');
  }
  logger.info(
    {
      address,
      env: config.env,
      source: config.market.source,
      store: config.store.kind,
      symbols: config.market.symbols,
      policyVersion: config.policy.version,
      instanceId: config.instanceId,
    },
    'liq-gate listening',
  );
  if (config.auth.demoKey) {
    // The demo key is generated fresh each start; it is shown once, here, so the
    // quickstart works without setup. Production refuses to start without API_KEYS.
    process.stdout.write(
      `\n  Demo mode: no API_KEYS configured. Use this key (all scopes) for this run:\n\n` +
        `    export LIQ_GATE_KEY=${config.auth.demoKey}\n` +
        `    curl -H "Authorization: Bearer $LIQ_GATE_KEY" ${displayUrl(config.server.host, config.server.port)}/heatmap/${config.market.symbols[0] ?? 'BTCUSDT'}\n\n` +
        `  Docs: ${displayUrl(config.server.host, config.server.port)}/docs\n\n`,
    );
  }

  let shuttingDown = false;
  const shutdown = (signal: string, exitCode = 0) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: stopping background work, finishing in-flight requests');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.server.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.server.shutdownTimeoutMs);
    timer.unref();
    metricsServer?.close();
    app
      .close()
      .then(() => infra.close())
      .then(() => {
        logger.info('shutdown complete');
        clearTimeout(timer);
        // Everything we own is closed; what may still hold the event loop is outside our
        // reach (a venue's DNS lookup queued in libuv's pool takes up to its resolver's
        // timeout), so the process ends here rather than when the last lookup gives up.
        process.exit(exitCode);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Key rotation and revocation without a restart (the file is also polled for changes).
  process.on('SIGHUP', () => {
    logger.info({ reloaded: app.reloadApiKeys() }, 'SIGHUP: API keys file re-read');
  });
  // Startup may still be finishing after listen (see buildApp); until it has, /health/ready
  // is 503. If it fails, fail as a boot failure would: exit non-zero for the supervisor.
  app.started.then(
    () => logger.info('startup complete: ready'),
    (err: unknown) => {
      logger.fatal({ err: { message: (err as Error).message } }, 'startup failed after listening');
      shutdown('startup failed', 1);
    },
  );
}

function displayUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h}:${port}`;
}

main().catch((err: unknown) => {
  process.stderr.write(`liq-gate: fatal: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
