import { policyFor } from '../../config/policy.js';
import { instrumentStore } from '../../metrics.js';
import { createMemoryPosttradeStore } from '../../stores/posttrade-store.js';
import { createRedisPosttradeStore } from '../../stores/posttrade-store.redis.js';
import type { HeatmapModule, ModuleInfra, PretradeModule, ReadinessCheck, ServiceModule } from '../module.js';
import { PosttradeAnalyzer } from './analyzer.js';
import { DemoEngine } from './demo-engine.js';
import { createFillIntake, registerPosttradeRoutes } from './routes.js';

export interface PosttradeModule extends ServiceModule {
  readonly analyzer: PosttradeAnalyzer;
  readonly demoEngine: DemoEngine | null;
}

/**
 * Post-trade analytics (docs/posttrade.md): POST /fills records executions; each fill is
 * analysed at fill time + POSTTRADE_WINDOW_MS against the market of its moment and the
 * decision that allowed it; GET /posttrade/report and /posttrade/calibration aggregate.
 * On the simulator a demo engine trades through the gate and reports its fills.
 */
export function createPosttradeModule(infra: ModuleInfra, heatmaps: HeatmapModule, pretrade: PretradeModule): PosttradeModule {
  const { config, clock } = infra;
  const logger = infra.logger.child({ module: 'posttrade' });
  const retentionMs = config.posttrade.retentionMs;
  const store = instrumentStore(
    config.store.kind === 'redis' && infra.redis
      ? createRedisPosttradeStore(infra.redis, infra.keys, { retentionMs, now: clock })
      : createMemoryPosttradeStore(retentionMs, clock),
    'posttrade',
    infra.metrics,
  );
  const routeDeps = { config, clock, store, reader: heatmaps.reader };
  const analyzer = new PosttradeAnalyzer({
    store,
    heatmapStore: heatmaps.store,
    reader: heatmaps.reader,
    symbols: config.market.symbols,
    decisionRecord: (id) => pretrade.decisionRecord(id),
    policyFor: (s) => policyFor(config.policy, s).pretrade,
    windowMs: config.posttrade.windowMs,
    historyIntervalMs: config.cluster.historyIntervalMs,
    clock,
    logger,
  });
  const demoEngine = config.posttrade.demoEngine
    ? new DemoEngine({
        symbols: config.market.symbols,
        reader: heatmaps.reader,
        pretrade,
        intake: createFillIntake(routeDeps),
        clock,
        logger,
        seed: config.market.simSeed,
        tickMs: 2_000,
        holdMs: 20_000,
      })
    : null;

  let started = false;
  return {
    name: 'posttrade',
    analyzer,
    demoEngine,
    registerRoutes: (app) => registerPosttradeRoutes(app, routeDeps),
    async start() {
      if (started) return;
      started = true;
      analyzer.start();
      demoEngine?.start();
    },
    async stop() {
      started = false;
      demoEngine?.stop();
      analyzer.stop();
    },
    async readiness(): Promise<ReadinessCheck[]> {
      return [];
    },
  };
}
