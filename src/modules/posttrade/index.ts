import { policyFor } from '../../config/policy.js';
import type { HeatmapReader, ModuleInfra, PretradeModule, ReadinessCheck, ServiceModule } from '../module.js';
import type { ExposureModule } from '../exposure/index.js';
import { PosttradeAnalyzer } from './analyzer.js';
import { DemoEngine } from './demo-engine.js';
import { createFillIntake, registerPosttradeRoutes } from './routes.js';

/**
 * Post-trade analytics (docs/posttrade.md): POST /fills records executions; each fill is
 * analysed at fill time + POSTTRADE_WINDOW_MS against the market of its moment and the
 * decision that allowed it; GET /posttrade/report and /posttrade/calibration aggregate.
 * On the simulator a demo engine trades through the gate and reports its fills.
 */
export function createPosttradeModule(infra: ModuleInfra, reader: HeatmapReader, pretrade: PretradeModule, exposure?: ExposureModule): ServiceModule {
  const { config, clock } = infra;
  const logger = infra.logger.child({ module: 'posttrade' });
  const store = infra.stores.posttrade;
  const routeDeps = { config, clock, store, reader, exposure };
  const analyzer = new PosttradeAnalyzer({
    store,
    heatmapStore: infra.stores.heatmaps,
    reader,
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
        reader,
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
