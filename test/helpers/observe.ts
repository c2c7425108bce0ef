import { vi } from 'vitest';
import type { AppInstance } from '../../src/modules/module.js';
import type { ReadinessCheck } from '../../src/modules/module.js';
import type { HeatmapSnapshot, HeatmapStore, NewHeatmapSnapshot } from '../../src/stores/heatmap-store.js';
import { bearer, TEST_KEYS } from './keys.js';

/**
 * What tests see of a running app, only through its HTTP surface: the API, /metrics and
 * /health/status. Waits poll until the app shows the expected state.
 */

/** The value of one sample in Prometheus text format (labels as written, in any order), or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const labelText = open === -1 ? '' : line.slice(open + 1, line.indexOf('}'));
    const have = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export async function scrapeMetrics(app: AppInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(TEST_KEYS.metrics) });
  if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}`);
  return res.body;
}

/** Decisions answered but not yet written to the audit log (liqgate_audit_backlog). */
export async function auditBacklog(app: AppInstance): Promise<number> {
  const n = sample(await scrapeMetrics(app), 'liqgate_audit_backlog');
  if (n === undefined) throw new Error('no liqgate_audit_backlog sample');
  return n;
}

/** Resolves once every decision answered so far is written to the audit log. */
export async function auditWritten(app: AppInstance, timeoutMs = 5_000): Promise<void> {
  await vi.waitFor(async () => {
    if ((await auditBacklog(app)) !== 0) throw new Error('audit records still waiting');
  }, { timeout: timeoutMs, interval: 10 });
}

/** Every check /health/status reports (startup, store, heatmaps, audit, trading state, ...). */
export async function statusChecks(app: AppInstance): Promise<ReadinessCheck[]> {
  const res = await app.inject({ method: 'GET', url: '/health/status' });
  return res.json<{ checks: ReadinessCheck[] }>().checks;
}

/** One check of /health/status by name, or undefined. */
export async function statusCheck(app: AppInstance, name: string): Promise<ReadinessCheck | undefined> {
  return (await statusChecks(app)).find((c) => c.name === name);
}

/** The version of the heatmap the app serves for `symbol` (GET /symbols), or null. */
export async function servedVersion(app: AppInstance, symbol: string): Promise<number | null> {
  const res = await app.inject({ method: 'GET', url: '/symbols', headers: bearer(TEST_KEYS.read) });
  const body = res.json<{ symbols: { symbol: string; version: number | null }[] }>();
  return body.symbols.find((s) => s.symbol === symbol)?.version ?? null;
}

/**
 * Writes a heatmap to the store the app reads, as the poller would, and resolves once the
 * app serves it (its cache learns of it from the store's announcement).
 */
export async function publishTo(app: AppInstance, store: HeatmapStore, snapshot: NewHeatmapSnapshot): Promise<HeatmapSnapshot> {
  const { accepted, version } = await store.put(snapshot);
  if (!accepted) throw new Error('heatmap write refused by the store');
  await vi.waitFor(async () => {
    if (((await servedVersion(app, snapshot.symbol)) ?? 0) < version) throw new Error(`${snapshot.symbol} v${version} not served yet`);
  }, { timeout: 5_000, interval: 10 });
  return { ...snapshot, version };
}
