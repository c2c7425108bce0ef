type OpenApiDoc = { paths?: unknown; components?: { schemas?: Record<string, unknown> } } & Record<string, unknown>;

const REF_PREFIX = '#/components/schemas/';

/** Every `#/components/schemas/<name>` referenced anywhere inside `node`. */
function collectRefs(node: unknown, out: string[]): void {
  if (Array.isArray(node)) {
    for (const x of node) collectRefs(x, out);
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(REF_PREFIX)) out.push(v.slice(REF_PREFIX.length));
      else collectRefs(v, out);
    }
  }
}

/**
 * Drops component schemas that no path reaches, directly or through other components.
 * The zod provider registers an input and an output variant of every named schema; the
 * input variant of a response-only schema (e.g. `HeatmapInput`) is never used, and
 * client generators would turn each into a duplicate type.
 */
export function pruneUnreachableSchemas<T extends OpenApiDoc>(doc: T): T {
  const schemas = doc.components?.schemas;
  if (!schemas) return doc;
  const queue: string[] = [];
  const { components: _components, ...rest } = doc;
  collectRefs(rest, queue);
  const reachable = new Set<string>();
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (reachable.has(name) || !(name in schemas)) continue;
    reachable.add(name);
    collectRefs(schemas[name], queue);
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => reachable.has(name)));
  return { ...doc, components: { ...doc.components, schemas: kept } };
}
