/** Regenerates openapi/openapi.json from the route schemas: `npm run openapi:generate`. */
import { writeFileSync } from 'node:fs';
import { generateOpenApiDocument, serializeOpenApi } from '../src/openapi.js';

const out = new URL('../openapi/openapi.json', import.meta.url);
writeFileSync(out, serializeOpenApi(await generateOpenApiDocument()));
console.log(`wrote ${out.pathname}`);
