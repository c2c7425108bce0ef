import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyBaseLogger, FastifyError, FastifyHttpOptions, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServerLimits } from '../config/env.js';
import { errorHandler, type ErrorBody } from './errors.js';

/** Headers every response carries (besides x-request-id). */
export const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/**
 * Fastify and Node server options that bound what one client can hold: the request and
 * header timeouts (enforced every `timeoutCheckIntervalMs`), the idle keep-alive and
 * socket timeouts, the requests per connection and the header size. The connection cap
 * is set on the server itself (applyConnectionCap), Node has no option for it.
 */
export function boundedServerOptions(limits: HttpServerLimits): FastifyHttpOptions<Server> {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
      maxHeaderSize: limits.maxHeaderBytes,
    },
  };
}

/** Node's own rejection of a request, as the one error shape (no route, no Fastify request). */
function classifyClientError(err: Error & { code?: string }, limits: HttpServerLimits): Omit<ErrorBody, 'requestId'> {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { statusCode: 408, error: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time' };
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return {
      statusCode: 431,
      error: 'HEADERS_TOO_LARGE',
      message: `The request line and headers are larger than ${limits.maxHeaderBytes} bytes`,
    };
  return { statusCode: 400, error: 'BAD_REQUEST', message: 'Malformed HTTP request' };
}

const REASON: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Answers what Node's HTTP parser rejects (malformed requests, 431, the 408 of a timed-out
 * request) in the service's error shape with a fresh request id that is also logged, then
 * closes the connection once the answer is flushed.
 */
export function createClientErrorHandler(logger: FastifyBaseLogger, limits: HttpServerLimits) {
  return function onClientError(err: Error & { code?: string }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || response?.headersSent) {
      socket.destroy();
      return;
    }
    const requestId = randomUUID();
    const shape = classifyClientError(err, limits);
    const body = JSON.stringify({ ...shape, requestId });
    logger.info({ reqId: requestId, statusCode: shape.statusCode, code: err.code }, 'request rejected by the HTTP parser');
    const head =
      `HTTP/1.1 ${shape.statusCode} ${REASON[shape.statusCode] ?? 'Bad Request'}\r\n` +
      `content-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      `x-content-type-options: nosniff\r\n` +
      `connection: close\r\n\r\n`;
    socket.end(head + body, () => socket.destroy());
  };
}

/** Router errors (malformed URL 400, over-long parameter 414) through the usual error handler. */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', req.id).headers(SECURITY_HEADERS);
  errorHandler(err, req, reply);
}
