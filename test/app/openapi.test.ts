import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenApiDocument, serializeOpenApi } from '../../src/openapi.js';
import { pruneUnreachableSchemas } from '../../src/openapi-prune.js';

describe('OpenAPI document', () => {
  it('when the route schemas change, then the committed openapi/openapi.json must be regenerated (npm run openapi:generate)', async () => {
    const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');
    const generated = serializeOpenApi(await generateOpenApiDocument());
    expect(generated).toBe(committed);
  });

  it('when generated, then it is OpenAPI 3.1 with bearer security and public health endpoints', async () => {
    const doc = (await generateOpenApiDocument()) as {
      openapi: string;
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes).toHaveProperty('bearerAuth');
    expect(doc.paths['/health/live']?.get?.security).toEqual([]);
    expect(doc.paths['/health/ready']?.get?.security).toEqual([]);
  });
});

describe('OpenAPI component schemas', () => {
  it('when generated, then every component schema is reachable from a path and every $ref resolves', async () => {
    const doc = (await generateOpenApiDocument()) as { paths: unknown; components: { schemas: Record<string, unknown> } };
    const refs = (node: unknown): string[] => {
      const out: string[] = [];
      JSON.stringify(node, (k, v: unknown) => {
        if (k === '$ref' && typeof v === 'string') out.push(v.replace('#/components/schemas/', ''));
        return v;
      });
      return out;
    };
    const seen = new Set<string>();
    const queue = refs(doc.paths);
    while (queue.length > 0) {
      const name = queue.pop() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      expect(doc.components.schemas, `$ref to ${name}`).toHaveProperty(name);
      queue.push(...refs(doc.components.schemas[name]));
    }
    expect(Object.keys(doc.components.schemas).sort()).toEqual([...seen].sort());
    // The request schemas the routes take are kept (as their input variants).
    expect(seen).toContain('PretradeRequestInput');
  });

  it('when a component is referenced only by an unreachable one, then both are pruned', () => {
    const doc = {
      paths: { '/a': { get: { responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/A' } } } } } } } },
      components: {
        securitySchemes: { bearerAuth: {} },
        schemas: {
          A: { type: 'object', properties: { b: { $ref: '#/components/schemas/B' } } },
          B: { type: 'string' },
          Orphan: { type: 'object', properties: { c: { $ref: '#/components/schemas/C' } } },
          C: { type: 'number' },
        },
      },
    };
    const pruned = pruneUnreachableSchemas(doc);
    expect(Object.keys(pruned.components?.schemas ?? {})).toEqual(['A', 'B']);
    expect(pruned.components).toHaveProperty('securitySchemes');
  });
});
