/** What scripts/bench-pretrade.ts sends and scripts/bench-server.ts accepts. */
export const BENCH_KEY = 'bench-pretrade-key-0001';

/** The hot path: no clientOrderId, so no idempotency store round trip. */
export const BENCH_ORDER = {
  symbol: 'BTCUSDT',
  side: 'buy',
  quantity: 0.5,
  orderType: 'market',
  accountId: 'bench',
  strategyId: 'momentum-1',
};
