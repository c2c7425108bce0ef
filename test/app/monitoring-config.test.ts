import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, TEST_KEYS, type TestApp } from '../helpers/app.js';

const root = new URL('../../', import.meta.url).pathname;
const prom = join(root, 'deploy/prometheus');
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
// CI installs Debian's prometheus package (.ci/run); there a missing promtool is a failure, not a skip.
const promtoolOrFail = hasPromtool || process.env.CI ? it : it.skip;

const promtool = (...args: string[]) => execFileSync('promtool', args, { cwd: prom, encoding: 'utf8', stdio: 'pipe' });

/** Metric names an expression or a dashboard refers to (histogram series map to their base name). */
function referencedMetrics(text: string): Set<string> {
  return new Set([...text.matchAll(/\bliqgate_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
}

describe('monitoring configuration (deploy/prometheus, deploy/grafana)', () => {
  promtoolOrFail('when promtool checks the alert rules, then they are valid and their unit tests pass (skipped only outside CI when promtool, Debian package prometheus, is missing)', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toContain('SUCCESS');
    expect(promtool('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
  });

  promtoolOrFail('when promtool checks the compose Prometheus config, then it is valid (skipped only outside CI when promtool is missing)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'liqgate-prom-'));
    try {
      copyFileSync(join(prom, 'alerts.yml'), join(dir, 'alerts.yml'));
      const cfg = readFileSync(join(prom, 'prometheus.yml'), 'utf8').replace('/etc/prometheus/alerts.yml', join(dir, 'alerts.yml'));
      writeFileSync(join(dir, 'prometheus.yml'), cfg);
      expect(promtool('check', 'config', join(dir, 'prometheus.yml'))).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('against the real app', () => {
    let t: TestApp;
    let exported: Set<string>;
    beforeAll(async () => {
      t = await buildTestApp();
      const text = (await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer(TEST_KEYS.metrics) })).body;
      exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
    });
    afterAll(() => t.close());

    it('when the alert rules name a metric, then the service exports it', () => {
      const names = referencedMetrics(readFileSync(join(prom, 'alerts.yml'), 'utf8'));
      expect(names.size).toBeGreaterThan(5);
      for (const n of names) expect(exported, n).toContain(n);
    });

    it('when the Grafana dashboard queries a metric, then the service exports it', () => {
      const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/liq-gate-dashboard.json'), 'utf8')) as {
        panels: { targets: { expr: string }[] }[];
      };
      const names = referencedMetrics(dashboard.panels.flatMap((p) => p.targets.map((x) => x.expr)).join('\n'));
      expect(names.size).toBeGreaterThan(5);
      for (const n of names) expect(exported, n).toContain(n);
    });
  });
});
