/**
 * Every Redis key the service uses is built here, under one configurable prefix,
 * so that replicas agree and tests can isolate themselves with a random prefix.
 */
export interface RedisKeys {
  readonly prefix: string;
  heatmapLatest(symbol: string): string;
  heatmapHistory(symbol: string): string;
  heatmapVersion(symbol: string): string;
  heatmapFence(symbol: string): string;
  heatmapChannel(): string;
  pollLease(symbol: string): string;
  pollLeaseToken(symbol: string): string;
  idempotency(clientOrderId: string): string;
  auditStream(): string;
  /** A decision's audit index key (its stream entry id); hash-tagged into the audit stream's slot so one script writes both. */
  decision(decisionId: string): string;
  /** Where versions before the audit index kept the whole record (read for lookups only). */
  legacyDecision(decisionId: string): string;
  tradingState(): string;
  tradingStateChannel(): string;
  tradingStateApplied(): string;
  symbolStatus(symbol: string): string;
  posttradeFill(fillId: string): string;
  posttradePending(): string;
  posttradeResult(fillId: string): string;
  posttradeResults(): string;
  policyReplicas(): string;
  policyCurrent(): string;
  policyChanges(): string;
  exposureState(accountId: string): string;
  exposureFills(accountId: string): string;
  exposureFillTimes(accountId: string): string;
  exposureAccounts(): string;
  /** The Redis server identity last seen (run_id) and when it last changed (a failover or a restart). */
  redisIdentity(): string;
}

export function redisKeys(prefix: string): RedisKeys {
  const p = prefix.endsWith(':') ? prefix : `${prefix}:`;
  return {
    prefix: p,
    heatmapLatest: (s) => `${p}heatmap:{${s}}:latest`,
    heatmapHistory: (s) => `${p}heatmap:{${s}}:history`,
    heatmapVersion: (s) => `${p}heatmap:{${s}}:version`,
    heatmapFence: (s) => `${p}heatmap:{${s}}:fence`,
    heatmapChannel: () => `${p}heatmap:updates`,
    pollLease: (s) => `${p}poll:{${s}}:lease`,
    pollLeaseToken: (s) => `${p}poll:{${s}}:token`,
    idempotency: (id) => `${p}idem:${id}`,
    auditStream: () => `${p}audit`,
    // The tag is the stream's whole key: `{x}:…` hashes to the slot of the key `x`.
    decision: (id) => `{${p}audit}:decision:${id}`,
    legacyDecision: (id) => `${p}decision:${id}`,
    tradingState: () => `${p}trading-state`,
    tradingStateChannel: () => `${p}trading-state:updates`,
    tradingStateApplied: () => `${p}trading-state:applied`,
    symbolStatus: (s) => `${p}status:{${s}}`,
    // One hash tag: the post-trade scripts touch a fill, the queue and the index together.
    posttradeFill: (id) => `${p}posttrade:{pt}:fill:${id}`,
    posttradePending: () => `${p}posttrade:{pt}:pending`,
    posttradeResult: (id) => `${p}posttrade:{pt}:result:${id}`,
    posttradeResults: () => `${p}posttrade:{pt}:results`,
    policyReplicas: () => `${p}policy:replicas`,
    policyCurrent: () => `${p}policy:current`,
    policyChanges: () => `${p}policy:changes`,
    // One hash tag per account: the exposure scripts touch its state and fills together.
    exposureState: (id) => `${p}exp:{acct:${id}}:state`,
    exposureFills: (id) => `${p}exp:{acct:${id}}:fills`,
    exposureFillTimes: (id) => `${p}exp:{acct:${id}}:fill-times`,
    exposureAccounts: () => `${p}exp:accounts`,
    redisIdentity: () => `${p}redis:identity`,
  };
}
