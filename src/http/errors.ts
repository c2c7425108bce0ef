import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** The body of every error response. `requestId` lets operators find the log line. */
export const ErrorBodySchema = z
  .object({
    statusCode: z.number().int(),
    error: z.string().describe('Stable error code, e.g. VALIDATION_FAILED, UNAUTHORIZED, NOT_FOUND'),
    message: z.string(),
    requestId: z.string(),
    details: z
      .array(
        z.object({
          path: z.string().describe('Dotted path of the offending field, e.g. body.quantity'),
          message: z.string(),
        }),
      )
      .optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Errors a handler throws on purpose, with a status and a stable code. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: { path: string; message: string }[],
    /** Response headers that belong to this error (e.g. WWW-Authenticate on a 401). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function send(reply: FastifyReply, req: FastifyRequest, body: Omit<ErrorBody, 'requestId'>): FastifyReply {
  return reply.code(body.statusCode).type('application/json').send({ ...body, requestId: String(req.id) });
}

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? 'request';
    const details = err.validation.map((v) => {
      const p = v.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
      const issue = v.params.issue as { code?: string; keys?: string[] } | undefined;
      const extra = issue?.code === 'unrecognized_keys' && issue.keys ? ` (${issue.keys.join(', ')})` : '';
      return { path: p ? `${where}.${p}` : where, message: `${v.message ?? 'invalid'}${extra}` };
    });
    return send(reply, req, {
      statusCode: 400,
      error: 'VALIDATION_FAILED',
      message: `Invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`,
      details,
    });
  }
  if (err instanceof HttpError) {
    if (err.headers) void reply.headers(err.headers);
    return send(reply, req, {
      statusCode: err.statusCode,
      error: err.code,
      message: err.message,
      ...(err.details ? { details: err.details } : {}),
    });
  }
  if (isResponseSerializationError(err)) {
    req.log.error({ err, issues: err.cause.issues }, 'response failed its schema');
    return send(reply, req, { statusCode: 500, error: 'INTERNAL', message: 'Internal error' });
  }
  const status = err.statusCode ?? 500;
  if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return send(reply, req, { statusCode: 413, error: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' });
  }
  if (status >= 400 && status < 500) {
    if (status === 414) return send(reply, req, { statusCode: 414, error: 'URI_TOO_LONG', message: 'The URL is too long' });
    // Fastify's own client errors (bad JSON, malformed URL, wrong content type...): the message is safe to show.
    const code =
      err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : status === 400 ? 'BAD_REQUEST' : 'CLIENT_ERROR';
    return send(reply, req, { statusCode: status, error: code, message: err.message });
  }
  req.log.error({ err }, 'unhandled error');
  return send(reply, req, { statusCode: 500, error: 'INTERNAL', message: 'Internal error' });
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return send(reply, req, {
    statusCode: 404,
    error: 'NOT_FOUND',
    message: `No route ${req.method} ${req.url.split('?')[0] ?? ''}`,
  });
}
