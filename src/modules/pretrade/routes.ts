import type { FastifyReply } from 'fastify';
import type { AppConfig } from '../../config/index.js';
import type { Clock } from '../../domain/clock.js';
import { ErrorBodySchema, HttpError } from '../../http/errors.js';
import type { AuditLog } from '../../stores/audit-log.js';
import type { AppInstance } from '../module.js';
import type { AuditWriter } from './audit-writer.js';
import { schemaSerializerCompiler } from '../../http/schema-serializer.js';
import type { CheckOutcome, PretradeGate } from './gate.js';
import { accountFor } from '../exposure/routes.js';
import {
  AuditRecordSchema,
  BatchRequestSchema,
  BatchResponseSchema,
  DecisionParamsSchema,
  errorResponses,
  PolicyResponseSchema,
  PretradeDecisionSchema,
  PretradeRequestSchema,
  TradingStatePutQuerySchema,
  TradingStatePutResponseSchema,
  TradingStatePutSchema,
  TradingStateResponseSchema,
  type BatchResponse,
} from './schemas.js';
import type { TradingStateCache } from './trading-state.js';
import { ReplicaAckError } from '../../stores/durable-writes.js';

export interface PretradeRouteDeps {
  config: AppConfig;
  clock: Clock;
  gate: PretradeGate;
  audit: AuditWriter;
  auditLog: AuditLog;
  tradingState: TradingStateCache;
}

const auditBacklogFull = () =>
  new HttpError(503, 'AUDIT_BACKLOG', 'Decisions cannot be recorded right now; retry shortly (or on another replica)');

const conflict = (path: string, decisionId: string) =>
  new HttpError(
    409,
    'IDEMPOTENCY_CONFLICT',
    `This clientOrderId was already used with a different request (decision ${decisionId})`,
    [{ path, message: 'already used with a different request body' }],
  );

/** Sends JSON that is already a string: an audit record as it was stored. */
const sendJson = (reply: FastifyReply, json: string): FastifyReply => reply.type('application/json; charset=utf-8').send(json);

const expiredMessage = (decisionId: string, why: string) =>
  `This clientOrderId was approved (decision ${decisionId}) but that approval no longer stands: ${why}. Ask again with a new clientOrderId`;

const expired = (path: string, decisionId: string, why: string) =>
  new HttpError(409, 'DECISION_EXPIRED', expiredMessage(decisionId, why), [{ path, message: 'its approval no longer stands' }]);

/** One order's answer in a batch: its decision, or why it got none (BatchOrderError). */
function batchItem(out: CheckOutcome, clientOrderId: string | undefined): BatchResponse['results'][number] {
  if (out.kind === 'decision') return out.decision;
  const error =
    out.kind === 'conflict'
      ? { error: 'IDEMPOTENCY_CONFLICT' as const, message: `This clientOrderId was already used with a different request (decision ${out.decisionId})` }
      : { error: 'DECISION_EXPIRED' as const, message: expiredMessage(out.decisionId, out.why) };
  return { clientOrderId: clientOrderId ?? null, ...error, decisionId: out.decisionId };
}

export function registerPretradeRoutes(app: AppInstance, d: PretradeRouteDeps): void {
  const { config, gate } = d;

  app.post(
    '/pretrade-check',
    {
      config: { scope: 'pretrade' },
      serializerCompiler: schemaSerializerCompiler,
      schema: {
        tags: ['pretrade'],
        operationId: 'checkPretrade',
        summary: 'Gate one proposed order: APPROVE, RESIZE or REJECT (always 200 for a decision)',
        body: PretradeRequestSchema,
        response: { 200: PretradeDecisionSchema, ...errorResponses, 409: ErrorBodySchema, 503: ErrorBodySchema },
      },
    },
    async (req, reply) => {
      if (!gate.hasRoom(1)) throw auditBacklogFull();
      const accountId = accountFor(req, req.body.accountId, 'body.accountId');
      const out = await gate.check(req.body, req.principal?.keyId ?? 'unknown', accountId);
      if (out.kind === 'conflict') throw conflict('body.clientOrderId', out.decisionId);
      if (out.kind === 'expired') throw expired('body.clientOrderId', out.decisionId, out.why);
      if (out.replayed) void reply.header('idempotent-replay', 'true');
      return out.decision;
    },
  );

  app.post(
    '/pretrade-check/batch',
    {
      config: { scope: 'pretrade' },
      serializerCompiler: schemaSerializerCompiler,
      schema: {
        tags: ['pretrade'],
        operationId: 'checkPretradeBatch',
        summary: `Gate up to ${config.pretrade.batchMax} orders at once, each independently: a decision, or an error, per order`,
        body: BatchRequestSchema(config.pretrade.batchMax),
        response: { 200: BatchResponseSchema, ...errorResponses, 503: ErrorBodySchema },
      },
    },
    async (req) => {
      const { orders } = req.body;
      if (!gate.hasRoom(orders.length)) throw auditBacklogFull();
      const keyId = req.principal?.keyId ?? 'unknown';
      const items = orders.map((order, i) => ({ order, accountId: accountFor(req, order.accountId, `body.orders.${i}.accountId`) }));
      const outs = await gate.checkMany(items, keyId);
      // Per-order answers: every decision made (and audited) reaches the client, also
      // when another order of the batch has no decision to give.
      return { results: outs.map((out, i) => batchItem(out, orders[i]?.clientOrderId)) };
    },
  );

  app.get(
    '/decisions/:decisionId',
    {
      config: { scope: 'read' },
      // The record is sent as it was stored, byte for byte: an audit answers with what was
      // recorded, and a record of an older version (another shape, other bounds) must stay
      // readable, which re-validating it against today's schema would not guarantee. It
      // was serialized from AuditRecordSchema when it was recorded (gate.ts).
      schema: {
        tags: ['pretrade'],
        operationId: 'getDecision',
        summary: 'One audited decision: the request, the decision, heatmap and policy versions',
        params: DecisionParamsSchema,
        response: { 200: AuditRecordSchema, ...errorResponses, 404: ErrorBodySchema, 503: ErrorBodySchema },
      },
    },
    async (req, reply) => {
      const { decisionId } = req.params;
      const waiting = d.audit.getPending(decisionId);
      if (waiting) return sendJson(reply, waiting);
      let found: string | null;
      try {
        found = await d.auditLog.get(decisionId);
      } catch (err) {
        req.log.warn({ err }, 'audit log lookup failed');
        throw new HttpError(503, 'STORE_UNAVAILABLE', 'The audit log cannot be read right now');
      }
      if (!found) throw new HttpError(404, 'NOT_FOUND', `No decision ${decisionId} (unknown, or past its retention)`);
      return sendJson(reply, found);
    },
  );

  app.get(
    '/policy',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['pretrade'],
        operationId: 'getPolicy',
        summary: 'The effective policy per symbol and its version (the policyVersion decisions carry)',
        response: { 200: PolicyResponseSchema, ...errorResponses },
      },
    },
    async () => ({
      version: config.policy.version,
      defaults: config.policy.defaults,
      symbols: config.policy.symbols,
      exposure: config.exposure,
      service: {
        heatmapMaxAgeMs: config.market.heatmapMaxAgeMs,
        batchMax: config.pretrade.batchMax,
        idempotencyTtlMs: config.pretrade.idempotencyTtlMs,
        decisionValidMs: config.pretrade.decisionValidMs,
      },
    }),
  );

  app.get(
    '/admin/trading-state',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        operationId: 'getTradingState',
        summary: 'The kill switch: global and per-symbol trading state, with who set it, when and why',
        response: { 200: TradingStateResponseSchema, ...errorResponses },
      },
    },
    async () => d.tradingState.view(config.market.symbols),
  );

  app.put(
    '/admin/trading-state',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        operationId: 'setTradingState',
        summary: 'Set the global (no symbol) or one symbol\'s trading state: ACTIVE, REDUCING or HALTED',
        description:
          'Answers once the store has the change and every live replica applied it, or after `wait` ms, saying how many applied it and which are pending.',
        querystring: TradingStatePutQuerySchema,
        body: TradingStatePutSchema,
        response: { 200: TradingStatePutResponseSchema, ...errorResponses, 503: ErrorBodySchema },
      },
    },
    async (req) => {
      const { symbol, state, reason } = req.body;
      if (symbol !== undefined && !config.market.symbols.includes(symbol)) {
        throw new HttpError(400, 'VALIDATION_FAILED', `Invalid body: body.symbol: ${symbol} is not a configured symbol`, [
          { path: 'body.symbol', message: `not a configured symbol (${config.market.symbols.join(', ')})` },
        ]);
      }
      const updatedBy = req.principal?.keyId ?? 'unknown';
      const entry = { state, reason, updatedBy, updatedAt: new Date(d.clock()).toISOString() };
      let version: number;
      try {
        version = await d.tradingState.set(symbol ?? null, entry);
      } catch (err) {
        if (err instanceof ReplicaAckError) {
          req.log.error({ err, symbol: symbol ?? '*', state }, 'trading state stored on the Redis primary but no replica acknowledged it');
          throw new HttpError(
            503,
            'STORE_UNAVAILABLE',
            'The trading state reached the Redis primary but no replica acknowledged it in time (AUDIT_DURABILITY=replica): a failover could lose it. Retry the change once a replica is attached.',
          );
        }
        req.log.error({ err, symbol: symbol ?? '*', state }, 'trading state could not be stored; unchanged here');
        throw new HttpError(
          503,
          'STORE_UNAVAILABLE',
          'The trading state could not be stored; this gate still applies the previous state. Retry the change.',
        );
      }
      req.log.warn({ symbol: symbol ?? '*', state, reason, updatedBy, version }, 'trading state changed');
      const propagation = await d.tradingState.awaitApplied(version, req.query.wait);
      if (!propagation.complete) req.log.warn({ version, ...propagation }, 'trading state not yet applied by every live replica');
      return { ...d.tradingState.view(config.market.symbols), ...propagation };
    },
  );
}
