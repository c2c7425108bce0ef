/**
 * Records live venue data (through the ccxt source) into the replay format, so real
 * sessions can be captured and replayed with MARKET_SOURCE=replay REPLAY_DIR=DIR.
 *
 *   npm run record -- --symbols BTCUSDT,ETHUSDT --venues binanceusdm --out DIR [--timeframe 5m] [--since ISO] [--listen-seconds N]
 *
 * Without --since the ccxt source's first-poll lookback applies (min(3 days, 2,000
 * bars)). --since reaches further back, up to 29 days (Binance keeps about 30 days of
 * open-interest history). Several venues are aggregated into one series per symbol
 * (see src/market/record.ts). Writes DIR/<SYMBOL>.csv and DIR/<SYMBOL>.book.csv, and
 * DIR/<SYMBOL>.liquidations.csv with the realized liquidations the venues' websockets
 * delivered while recording (--listen-seconds N keeps listening N seconds after the bars).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createCcxtSource } from '../src/market/ccxt-source.js';
import { CCXT_VENUES } from '../src/market/venues/index.js';
import { BAR_TIMEFRAMES, type BarTimeframe } from '../src/domain/market-data.js';
import { recordBars } from '../src/market/record.js';

const TIMEFRAMES: readonly BarTimeframe[] = BAR_TIMEFRAMES;
const MAX_LOOKBACK_MS = 29 * 86_400_000;

function fail(message: string): never {
  console.error(`record: ${message}`);
  console.error(
    'usage: npm run record -- --symbols BTCUSDT,ETHUSDT --venues binanceusdm --out DIR [--timeframe 5m] [--since ISO] [--no-book] [--listen-seconds N]',
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      symbols: { type: 'string' },
      venues: { type: 'string', default: 'binanceusdm' },
      out: { type: 'string' },
      timeframe: { type: 'string', default: '5m' },
      since: { type: 'string' },
      'no-book': { type: 'boolean', default: false },
      'listen-seconds': { type: 'string', default: '0' },
    },
  });
  const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  const symbols = list(values.symbols);
  const venues = list(values.venues);
  if (symbols.length === 0) fail('--symbols is required');
  if (!values.out) fail('--out is required');
  const bad = venues.filter((v) => !CCXT_VENUES.includes(v));
  if (venues.length === 0 || bad.length > 0) fail(`--venues must be among ${CCXT_VENUES.join(', ')}`);
  const timeframe = values.timeframe as BarTimeframe;
  if (!TIMEFRAMES.includes(timeframe)) fail(`--timeframe must be one of ${TIMEFRAMES.join(', ')}`);
  const listenSeconds = Number(values['listen-seconds']);
  if (!(listenSeconds >= 0) || !Number.isFinite(listenSeconds)) fail('--listen-seconds must be a non-negative number');
  const now = Date.now();
  let sinceMs: number | undefined;
  if (values.since) {
    sinceMs = Date.parse(values.since);
    if (!Number.isFinite(sinceMs)) fail(`--since is not an ISO time: ${values.since}`);
    if (now - sinceMs > MAX_LOOKBACK_MS) fail('--since may reach back at most 29 days (venue open-interest history)');
  }

  const logger = pino({ level: 'info' }, pino.destination(2));
  const source = await createCcxtSource(
    { symbols, venues, timeframe },
    { clock: Date.now, logger },
    sinceMs === undefined ? {} : { lookbackMs: now - sinceMs + 1 },
  );
  try {
    const done = await recordBars(source, {
      symbols,
      venues,
      outDir: values.out,
      sinceMs: sinceMs === undefined ? undefined : sinceMs - 1,
      noBook: values['no-book'],
      listenMs: listenSeconds * 1000,
    });
    for (const d of done) {
      const extra = [d.bookFile, d.liquidationsFile && `${d.liquidations} liquidations in ${d.liquidationsFile}`].filter(Boolean);
      console.log(`${d.symbol}: ${d.bars} bars -> ${d.file}${extra.length > 0 ? ` (+ ${extra.join(', ')})` : ''}`);
    }
  } finally {
    await source.close();
  }
}

main().catch((err: unknown) => {
  console.error(`record: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
