import type { Logger } from 'pino';
import type { MarketSource } from './market-source.js';
import { ReplayMarketSource } from './replay-source.js';
import { SimMarketSource } from './sim-source.js';

/**
 * Builds the configured market source. ccxt is imported lazily, only when that
 * source is chosen: the import costs about a second and 100+ MB.
 */

export interface MarketSourceDeps {
  /** Epoch ms; sources never call Date.now() directly. */
  clock: () => number;
  logger: Logger;
  /** Injectable for retry tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter, injectable. */
  random?: () => number;
  /** ccxt only: injected into every exchange instance (tests feed canned raw responses). */
  fetchImplementation?: (url: string, init?: unknown) => Promise<Response>;
}

/** A subset of AppConfig['market']. */
export interface MarketSourceConfig {
  source: 'sim' | 'ccxt' | 'replay';
  symbols: string[];
  venues: string[];
  replayDir: string | undefined;
  barTimeframe: '1m' | '5m' | '15m' | '30m' | '1h';
  simBarIntervalMs: number;
  simSeed: number;
  /** Correlation of the simulated symbols' returns (default SIM_DEFAULT_CORRELATION). */
  simCorrelation?: number;
  /** ccxt: how often each symbol is polled (sizes bulk ticks and the REST-or-websocket book choice). */
  pollIntervalMs?: number;
}

export async function createMarketSource(cfg: MarketSourceConfig, deps: MarketSourceDeps): Promise<MarketSource> {
  switch (cfg.source) {
    case 'sim':
      return new SimMarketSource({
        symbols: cfg.symbols,
        venues: cfg.venues,
        barIntervalMs: cfg.simBarIntervalMs,
        seed: cfg.simSeed,
        clock: deps.clock,
        ...(cfg.simCorrelation === undefined ? {} : { correlation: cfg.simCorrelation }),
      });
    case 'replay':
      if (!cfg.replayDir) throw new Error('replay source needs a replay directory (REPLAY_DIR)');
      return ReplayMarketSource.create({ dir: cfg.replayDir, symbols: cfg.symbols, clock: deps.clock });
    case 'ccxt': {
      const { createCcxtSource } = await import('./ccxt-source.js');
      return createCcxtSource(
        { symbols: cfg.symbols, venues: cfg.venues, timeframe: cfg.barTimeframe, ...(cfg.pollIntervalMs === undefined ? {} : { pollIntervalMs: cfg.pollIntervalMs }) },
        deps,
      );
    }
  }
}

export * from './market-source.js';
export { parseBarsCsv, formatBarsCsv, BarsCsvError, BARS_CSV_HEADER } from './bars-csv.js';
