import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenApiDocument, serializeOpenApi } from '../../src/openapi.js';

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
