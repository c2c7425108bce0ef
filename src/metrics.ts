import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics for operators. One registry per app (never prom-client's global one,
 * so two apps in one process — tests, replicas in e2e — do not share counters).
 *
 * Event metrics (decisions, polls, store calls) are counted where they happen through the
 * small `ServiceMetrics` interface; state metrics (heatmap age, breaker state, audit
 * backlog) are read when Prometheus scrapes, from the modules' own status, so they can
 * never drift from what /symbols and /health show.
 */
export interface ServiceMetrics {
  /** One decision recorded (replays are not counted again). */
  decision(d: { decision: string; reasons: readonly { code: string }[]; warnings: readonly { code: string }[] }): void;
  /** Time the rules took to evaluate one order. */
  evaluated(seconds: number): void;
  /** One venue call of a poll, by outcome. */
  venuePoll(venue: string, outcome: 'ok' | 'error' | 'skipped' | 'deferred'): void;
  /** One store round trip (latency and whether it failed). */
  storeCall(store: string, op: string, seconds: number, ok: boolean): void;
  /** A decision made while the idempotency store did not answer (remembered locally). */
  idempotencyFallback(): void;
  /** Orders whose exposure check-and-reserve the exposure store did not confirm (error or timeout), by what the gate did. */
  exposureUnavailable(outcome: 'rejected' | 'passed', orders: number): void;
  /** Registers a gauge read at scrape time (the read may wait on a store; a failed read leaves the gauge empty). */
  gauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    read: () => Iterable<[Record<string, string>, number]> | Promise<Iterable<[Record<string, string>, number]>>,
  ): void;
}

export interface AppMetrics extends ServiceMetrics {
  readonly registry: Registry;
  /** Text exposition format, as Prometheus scrapes it. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** Decision latency buckets, seconds: the gate answers in well under a millisecond in process. */
const DECISION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];
/** Store round trips: loopback Redis is ~0.1–1 ms; the gate's store timeout is 250 ms. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export function createMetrics(opts: { defaultLabels?: Record<string, string> } = {}): AppMetrics {
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  // Process and runtime metrics, event-loop lag included (nodejs_eventloop_lag_*).
  collectDefaultMetrics({ register: registry, prefix: 'liqgate_' });

  const decisions = new Counter({
    name: 'liqgate_decisions_total',
    help: 'Pre-trade decisions made, by outcome (APPROVE, RESIZE, REJECT)',
    labelNames: ['decision'] as const,
    registers: [registry],
  });
  const reasons = new Counter({
    name: 'liqgate_decision_reasons_total',
    help: 'Reason and warning codes on decisions made (one decision may carry several)',
    labelNames: ['code', 'kind'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'liqgate_decision_seconds',
    help: 'Time to evaluate one order in process (rules only, not the HTTP round trip)',
    buckets: DECISION_BUCKETS,
    registers: [registry],
  });
  const polls = new Counter({
    name: 'liqgate_venue_polls_total',
    help: 'Venue calls made by the poller, by venue and outcome',
    labelNames: ['venue', 'outcome'] as const,
    registers: [registry],
  });
  const storeSeconds = new Histogram({
    name: 'liqgate_store_seconds',
    help: 'Store round trips, by store and operation',
    labelNames: ['store', 'op'] as const,
    buckets: STORE_BUCKETS,
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'liqgate_store_errors_total',
    help: 'Store calls that failed or timed out, by store and operation',
    labelNames: ['store', 'op'] as const,
    registers: [registry],
  });
  const idempotencyFallbacks = new Counter({
    name: 'liqgate_idempotency_fallbacks_total',
    help: 'Decisions made while the idempotency store did not answer (remembered on this replica only)',
    registers: [registry],
  });

  const exposureUnavailable = new Counter({
    name: 'liqgate_exposure_unavailable_total',
    help: 'Orders whose exposure check-and-reserve the exposure store did not confirm (error or timeout): outcome="rejected" (risk-adding, or reduce-only with requireConfirmedPositions), "passed" (reduce-only, with a warning)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    decision(d) {
      decisions.inc({ decision: d.decision });
      for (const r of d.reasons) reasons.inc({ code: r.code, kind: 'reason' });
      for (const w of d.warnings) reasons.inc({ code: w.code, kind: 'warning' });
    },
    evaluated(seconds) {
      latency.observe(seconds);
    },
    venuePoll(venue, outcome) {
      polls.inc({ venue, outcome });
    },
    storeCall(store, op, seconds, ok) {
      storeSeconds.observe({ store, op }, seconds);
      if (!ok) storeErrors.inc({ store, op });
    },
    idempotencyFallback() {
      idempotencyFallbacks.inc();
    },
    exposureUnavailable(outcome, orders) {
      exposureUnavailable.inc({ outcome }, orders);
    },
    gauge(name, help, labelNames, read) {
      new Gauge({
        name,
        help,
        labelNames: [...labelNames],
        registers: [registry],
        async collect() {
          this.reset();
          let samples: Iterable<[Record<string, string>, number]>;
          try {
            samples = await read();
          } catch {
            return; // e.g. the store did not answer: no samples rather than a failed scrape
          }
          for (const [labels, value] of samples) this.set(labels, value);
        },
      });
    },
  };
}

/** Metrics that record nothing, for code paths built without an app (scripts, unit tests). */
export const noMetrics: ServiceMetrics = {
  decision() {},
  evaluated() {},
  venuePoll() {},
  storeCall() {},
  idempotencyFallback() {},
  exposureUnavailable() {},
  gauge() {},
};

/**
 * Wraps every method of a store that returns a promise so its latency and failures are
 * counted under `store`/method name; synchronous methods pass through untouched.
 */
export function instrumentStore<T extends object>(store: T, name: string, metrics: ServiceMetrics, now: () => number = () => performance.now()): T {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const started = now();
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.then(
          (v: unknown) => {
            metrics.storeCall(name, prop, (now() - started) / 1000, true);
            return v;
          },
          (err: unknown) => {
            metrics.storeCall(name, prop, (now() - started) / 1000, false);
            throw err;
          },
        );
      };
    },
  });
}
