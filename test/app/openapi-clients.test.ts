import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The committed OpenAPI document as client generators see it: Redocly's recommended
 * lint, and a typed client (openapi-typescript types, openapi-fetch calls) that must
 * compile against it, the README's "Typed client" example included.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const docPath = join(root, 'openapi', 'openapi.json');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses: Record<string, { description?: string; content?: Record<string, { schema?: { $ref?: string } }>; headers?: Record<string, unknown> }>;
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
};
type Doc = { servers?: { url: string }[]; info: { license?: { name: string } }; paths: Record<string, Record<string, Operation>> };

const doc = JSON.parse(readFileSync(docPath, 'utf8')) as Doc;
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
const op = (method: string, path: string): Operation => {
  const found = doc.paths[path]?.[method];
  if (!found) throw new Error(`no ${method} ${path} in the document`);
  return found;
};

/** The fenced ts block between the README's typed-client markers. */
function readmeClientExample(readme: string): string {
  const m = /<!-- typed-client:start -->\s*```ts\n([\s\S]*?)```\s*<!-- typed-client:end -->/.exec(readme);
  if (!m?.[1]) throw new Error('README.md has no ```ts block between <!-- typed-client:start --> and <!-- typed-client:end -->');
  return m[1];
}

describe('OpenAPI document for client generators', () => {
  it('when read, then every operation has a unique camelCase operationId, a summary and a declared tag', () => {
    const ids = operations.map(({ op: o }) => o.operationId);
    for (const { path, method, op: o } of operations) {
      expect(o.operationId, `${method} ${path}`).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(o.summary, `${method} ${path}`).toBeTruthy();
      expect(o.tags?.length, `${method} ${path}`).toBe(1);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(op('post', '/pretrade-check').operationId).toBe('checkPretrade');
    expect(op('post', '/pretrade-check/batch').operationId).toBe('checkPretradeBatch');
    expect(op('get', '/heatmap/{symbol}').operationId).toBe('getHeatmap');
    expect(op('get', '/accounts/{accountId}/exposure').operationId).toBe('getExposure');
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.license?.name).toBeTruthy();
  });

  it('when a route is private, then it needs the bearer key with its scope and declares 401 and 403; public routes need none and declare neither', () => {
    expect(op('post', '/pretrade-check').security).toEqual([{ bearerAuth: ['pretrade'] }]);
    expect(op('get', '/heatmap/{symbol}').security).toEqual([{ bearerAuth: ['read'] }]);
    expect(op('put', '/admin/trading-state').security).toEqual([{ bearerAuth: ['admin'] }]);
    for (const { path, method, op: o } of operations) {
      const isPublic = o.security?.length === 0;
      expect(o.security, `${method} ${path}`).toBeDefined();
      expect('401' in o.responses, `${method} ${path} 401`).toBe(!isPublic);
      expect('403' in o.responses, `${method} ${path} 403`).toBe(!isPublic);
    }
    for (const path of ['/health/live', '/health/ready', '/health/status', '/heatmap/{symbol}/view']) expect(op('get', path).security).toEqual([]);
    expect(op('get', '/heatmap/{symbol}').responses['403']?.description).toContain('"read" scope');
  });

  it('when a request reaches a route, then every status the shared layers can answer is declared with the Error body', () => {
    const errorRef = '#/components/schemas/Error';
    for (const { path, method, op: o } of operations) {
      const shared = ['400', '408', '414', '431', '500'];
      if (!path.startsWith('/health/')) shared.push('503'); // draining: health routes report it themselves
      if (method !== 'get') shared.push('413', '415'); // the body parser runs on every method but GET and HEAD
      for (const status of shared) {
        const r = o.responses[status];
        expect(r, `${method} ${path} ${status}`).toBeDefined();
        expect(r?.content?.['application/json']?.schema?.$ref, `${method} ${path} ${status}`).toBe(errorRef);
      }
      for (const [status, r] of Object.entries(o.responses)) {
        expect(r.description, `${method} ${path} ${status}`).not.toBe('Default Response');
      }
    }
    expect(Object.keys(op('get', '/health/live').responses)).not.toContain('503');
    expect(Object.keys(op('get', '/heatmap/{symbol}').responses)).not.toContain('413');
  });

  it('when a route answers its own statuses, then they stay declared next to the shared ones', () => {
    expect(Object.keys(op('post', '/pretrade-check').responses)).toEqual(expect.arrayContaining(['200', '409', '503']));
    expect(Object.keys(op('post', '/fills').responses)).toEqual(expect.arrayContaining(['200', '202', '409']));
    expect(Object.keys(op('get', '/decisions/{decisionId}').responses)).toContain('404');
    expect(op('get', '/health/ready').responses['503']?.content?.['application/json']?.schema?.$ref).toBe('#/components/schemas/Readiness');
    expect(Object.keys(op('get', '/metrics').responses['200']?.content ?? {})).toEqual(['text/plain']);
  });

  it('when the heatmap is fetched conditionally, then If-None-Match, the ETag and the bodiless 304 are declared', () => {
    const heatmap = op('get', '/heatmap/{symbol}');
    expect(heatmap.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'if-none-match' }));
    expect(heatmap.responses['200']?.headers).toHaveProperty('etag');
    expect(heatmap.responses['304']?.headers).toHaveProperty('etag');
    expect(heatmap.responses['304']?.content).toBeUndefined();
  });
});

// CI installs the devDependencies; there a missing binary is a failure, not a skip.
const hasRedocly = existsSync(bin('redocly'));
const redoclyOrFail = hasRedocly || process.env.CI ? it : it.skip;
if (!hasRedocly) console.warn('skipping the Redocly lint: node_modules/.bin/redocly is missing (npm install)');

describe('OpenAPI lint', () => {
  redoclyOrFail(
    "when Redocly lints the committed document with its recommended rules, then it finds no errors and no warnings (skipped only outside CI when @redocly/cli is not installed)",
    async () => {
      const { stdout } = await run(bin('redocly'), ['lint', docPath, '--format=json'], {
        cwd: root,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
        maxBuffer: 16 * 1024 * 1024,
      });
      const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
      expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    },
    120_000,
  );
});

/** A client of the main operations; the @ts-expect-error lines fail the compile if the types stop catching mistakes. */
const TYPED_CLIENT = `import createClient from 'openapi-fetch';
import type { components, operations, paths } from './liq-gate-api.js';

type Schemas = components['schemas'];

export async function exercise(gate = createClient<paths>({ baseUrl: 'http://localhost:8080' })): Promise<string[]> {
  const seen: string[] = [];

  // Fields with a default (reduceOnly) stay optional for callers.
  const minimal: Schemas['PretradeRequestInput'] = { symbol: 'BTCUSDT', side: 'buy', notional: 1_000, orderType: 'market' };
  const one = await gate.POST('/pretrade-check', { body: { ...minimal, clientOrderId: 'order-1', accountId: 'acc-1' } });
  if (one.data) {
    const verdict: 'APPROVE' | 'RESIZE' | 'REJECT' = one.data.decision;
    seen.push(verdict, one.data.decisionId, ...one.data.reasons.map((r) => r.code));
  } else {
    const failure: Schemas['Error'] = one.error;
    seen.push(failure.error, failure.requestId);
  }

  const batch = await gate.POST('/pretrade-check/batch', {
    body: {
      orders: [minimal, { symbol: 'ETHUSDT', side: 'sell', quantity: 2, orderType: 'limit', limitPrice: 3_000, reduceOnly: true }],
    },
  });
  for (const r of batch.data?.results ?? []) {
    if ('error' in r) seen.push(r.error, r.decisionId);
    else seen.push(String(r.approvedQuantity));
  }

  const heatmap = await gate.GET('/heatmap/{symbol}', {
    params: { path: { symbol: 'BTCUSDT' }, query: { rangePct: 0.05, binBps: 10 }, header: { 'if-none-match': 'W/"1"' } },
  });
  if (heatmap.data) seen.push(heatmap.data.asOf, ...heatmap.data.ladder.map((l) => String(l.longUsd + l.shortUsd)));

  const exposure = await gate.GET('/accounts/{accountId}/exposure', { params: { path: { accountId: 'acc-1' } } });
  if (exposure.data) seen.push(exposure.data.state, ...exposure.data.limits.map((l) => \`\${l.name}:\${l.usedShare ?? 'n/a'}\`));

  // The statuses a client must handle are in the types, keyed by operationId.
  const notModified: keyof operations['getHeatmap']['responses'] = 304;
  const tooLarge: keyof operations['checkPretrade']['responses'] = 413;
  const draining: keyof operations['checkPretradeBatch']['responses'] = 503;
  seen.push(String(notModified + tooLarge + draining));

  // @ts-expect-error side is required
  await gate.POST('/pretrade-check', { body: { symbol: 'BTCUSDT', notional: 1, orderType: 'market' } });
  // @ts-expect-error no such path
  await gate.GET('/heatmaps/{symbol}', { params: { path: { symbol: 'BTCUSDT' } } });
  // @ts-expect-error the decision is one of three values
  const maybe: 'MAYBE' | undefined = one.data?.decision;
  // @ts-expect-error the exposure route declares no 304
  const noConditional: keyof operations['getExposure']['responses'] = 304;
  seen.push(String(maybe), String(noConditional));
  return seen;
}
`;

describe('OpenAPI typed client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'liq-gate-client-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'when TypeScript types are generated from the committed document, then a typed client of the main operations and the README example compile',
    async () => {
      // The generated types, exactly as the README tells clients to generate them.
      await run(bin('openapi-typescript'), [docPath, '--default-non-nullable', 'false', '-o', join(dir, 'liq-gate-api.d.ts')], { cwd: root });
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(join(dir, 'client.ts'), TYPED_CLIENT);
      writeFileSync(join(dir, 'readme-client.ts'), readmeClientExample(readFileSync(join(root, 'README.md'), 'utf8')));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            lib: ['ES2023', 'DOM'],
            types: ['node'],
            strict: true,
            noUncheckedIndexedAccess: true,
            noEmit: true,
            skipLibCheck: true,
          },
          files: ['liq-gate-api.d.ts', 'client.ts', 'readme-client.ts'],
        }),
      );
      // The generated file is a .d.ts, which skipLibCheck would not check: check it on its own.
      writeFileSync(
        join(dir, 'tsconfig.api.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2023'], types: [], strict: true, noEmit: true }, files: ['liq-gate-api.d.ts'] }),
      );
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const compile = (args: string[]) =>
        run(process.execPath, [tsc, ...args], { cwd: dir }).then(
          () => '',
          (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}` || 'tsc failed',
        );
      expect(await compile(['-p', 'tsconfig.json'])).toBe('');
      expect(await compile(['-p', 'tsconfig.api.json'])).toBe('');
    },
    180_000,
  );

  it('when the README has no typed-client block, then extracting it fails loudly', () => {
    expect(() => readmeClientExample('# nothing here')).toThrow(/typed-client:start/);
  });
});
