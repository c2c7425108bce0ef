export * from './types.js';
export { PretradePolicySchema, DEFAULT_TIME_OF_DAY_HOURLY_UTC, type PretradePolicy } from './policy.js';
export {
  evaluatePretrade,
  effectiveTradingState,
  floorToStep,
  distanceToZoneBps,
  type PretradeContext,
} from './evaluate.js';
export { timeOfDayMultiplier, utcHourAndWeekday } from './time-of-day.js';
export {
  estimateSlippageBps,
  maxQuantityWithinSlippage,
  bookReferencePrice,
  bookDefect,
  type SlippageEstimate,
} from './slippage.js';
