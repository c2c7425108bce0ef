import fastJson from 'fast-json-stringify';
import { z } from 'zod';

/**
 * A JSON serializer compiled from a zod schema (through its JSON Schema, by
 * fast-json-stringify): it writes exactly the schema's fields, in the schema's order,
 * and throws when a required one is missing. The schema stays the one description of
 * the shape; this only writes it faster than a zod encode followed by JSON.stringify
 * (2.3 against 6.9 µs for a decision on the 2-core VM), which is why the gate's routes
 * and its audit record use it. It coerces rather than validates the values: use it for
 * objects built by typed code, not for data from outside.
 */
export function jsonSerializerFor<S extends z.ZodType>(schema: S): (value: z.output<S>) => string {
  const jsonSchema = z.toJSONSchema(schema, { target: 'draft-7', io: 'output', unrepresentable: 'any', reused: 'inline' });
  return fastJson(jsonSchema as Parameters<typeof fastJson>[0]) as (value: z.output<S>) => string;
}

/** The same as a Fastify route's `serializerCompiler`, for routes whose response schemas are zod schemas. */
export const schemaSerializerCompiler = ({ schema }: { schema: unknown }): ((data: unknown) => string) => {
  if (!(schema instanceof z.ZodType)) throw new Error('schemaSerializerCompiler: the response schema is not a zod schema');
  return jsonSerializerFor(schema) as (data: unknown) => string;
};
