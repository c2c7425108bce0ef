import type { Rule } from './rule.js';
import { freshnessRule } from './rules/freshness.js';
import { leverageRule } from './rules/leverage.js';
import { limitInClusterRule } from './rules/limit-in-cluster.js';
import { maxNotionalRule } from './rules/max-notional.js';
import { maxQuantityRule } from './rules/max-quantity.js';
import { noTradeBufferRule } from './rules/no-trade-buffer.js';
import { bookDivergenceRule, reduceOnlyUnverifiedRule, unknownRegimeRule } from './rules/notices.js';
import { ownLiquidationRule } from './rules/own-liquidation.js';
import { priceCollarRule } from './rules/price-collar.js';
import { clusterProximityRule, confidenceRule, crowdingRule, fundingRule, timeOfDayRule, volatilityRule } from './rules/size-caps.js';
import { slippageRule } from './rules/slippage.js';
import { tradingStateRule } from './rules/trading-state.js';

/**
 * The gate's rules in the order their reasons are reported. Adding a rule: one file in
 * rules/, one line here, its reason code in REASON_CODES and its knob in the policy
 * (documented in docs/pretrade-rules.md).
 */
export const RULES: readonly Rule[] = [
  freshnessRule,
  tradingStateRule,
  leverageRule,
  priceCollarRule,
  limitInClusterRule,
  noTradeBufferRule,
  ownLiquidationRule,
  maxNotionalRule,
  maxQuantityRule,
  timeOfDayRule,
  volatilityRule,
  fundingRule,
  confidenceRule,
  crowdingRule,
  clusterProximityRule,
  slippageRule,
  bookDivergenceRule,
  unknownRegimeRule,
  reduceOnlyUnverifiedRule,
];
