import { z } from 'zod';
import { DateTime } from 'luxon';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import {
  accountSchema,
  authorizationSchema,
  confidenceSchema,
  idSchema,
  instantSchema,
  labelSchema,
  policySchema,
  usageSignalSchema,
} from '@mosaic/budget-core';
import { BudgetApiError } from '../errors.js';
import { ingestSpend } from '../register/spend.js';
import { ingestSignals, MAX_SIGNAL_BATCH, setReset } from '../register/signals.js';
import { accountToWire, listAccounts, putAccount } from '../register/accounts.js';
import { currentPolicy, policyHistory, putPolicy } from '../register/policy.js';
import { addAuthorization, listAuthorizations, revokeAuthorization } from '../register/authorizations.js';
import { listEstimates } from '../register/estimates.js';
import { listLedger } from '../register/ledger.js';
import { spendReport } from '../register/report.js';
import { paceReport } from '../register/pace.js';
import { spendBatchBody } from './spend-body.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as the client sent it, before zod's transforms (stored verbatim for documents). */
    rawBody?: unknown;
  }
}

/** Who made a change, for the audit columns: the token id, or `local` for the in-process CLI. */
export function actorOf(request: FastifyRequest): string {
  return request.principal.tokenId ? `token:${request.principal.tokenId}` : 'local';
}

function keepRawBody(request: FastifyRequest): Promise<void> {
  request.rawBody = structuredClone(request.body);
  return Promise.resolve();
}

const idParams = z.object({ id: idSchema });
const optionalInstant = instantSchema.optional();

/** The register's routes: spend, usage signals, accounts, policy, authorizations, ledger, pace, reports. */
export const registerRoutes: FastifyPluginAsyncZod = (app) => {
  app.post(
    '/v1/spend',
    {
      config: { scope: 'ingest' },
      schema: {
        tags: ['register'],
        summary: 'Append a batch of spend records (all-or-nothing, idempotent per record)',
        body: spendBatchBody,
      },
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      const metrics = app.gate.metrics;
      let result: Awaited<ReturnType<typeof ingestSpend>>;
      try {
        result = await ingestSpend(app.database.db, tenantId, request.body.records);
      } catch (error) {
        // The batch is all-or-nothing: a refused batch rejects every record in it.
        if (error instanceof BudgetApiError)
          metrics.recordIngest(tenantId, { rejected: request.body.records.length });
        throw error;
      }
      metrics.recordSpend(tenantId, result.written);
      metrics.recordIngest(tenantId, { inserted: result.inserted, duplicate: result.duplicates.length });
      if (result.inserted > 0) app.gate.capacityChanged(tenantId);
      return { inserted: result.inserted, duplicates: result.duplicates };
    },
  );

  app.post(
    '/v1/usage-signals',
    {
      // A status line sends its signals on every prompt: the batch's statement confirms the token.
      config: { scope: 'ingest', confirmsToken: true },
      schema: {
        tags: ['register'],
        summary: 'Record usage-vs-limit signals (older signals and lower-confidence resets do not overwrite)',
        body: z.object({ signals: z.array(usageSignalSchema).min(1).max(MAX_SIGNAL_BATCH) }),
      },
    },
    async (request) => {
      const { tenantId, tokenId } = request.principal;
      const outcomes = await ingestSignals(
        app.database.db,
        app.configCache,
        tenantId,
        request.body.signals,
        tokenId,
      );
      app.gate.capacityChanged(request.principal.tenantId);
      return { outcomes };
    },
  );

  app.get(
    '/v1/accounts',
    {
      config: { scope: 'read' },
      schema: { tags: ['register'], summary: 'List accounts with their windows' },
    },
    async (request) => {
      const accounts = await listAccounts(app.database.db, request.principal.tenantId);
      return { accounts: accounts.map(accountToWire) };
    },
  );

  app.put(
    '/v1/accounts/:id',
    {
      config: { scope: 'admin' },
      // The id lives in the path; a body without one takes it from there.
      preValidation: (request, _reply, done) => {
        const body = request.body as Record<string, unknown> | null;
        const params = request.params as Record<string, unknown>;
        if (body && typeof body === 'object' && !Array.isArray(body) && body.id === undefined)
          body.id = params.id;
        done();
      },
      schema: {
        tags: ['register'],
        summary: 'Create or replace an account (windows, or ceiling and period)',
        params: idParams,
        body: accountSchema,
      },
    },
    async (request, reply) => {
      if (request.body.id !== request.params.id) {
        throw new BudgetApiError(
          'BUDGET_ERR_VALIDATION',
          `the body's id "${request.body.id}" is not the path's "${request.params.id}"`,
          {
            issues: [{ path: ['body', 'id'], message: 'must equal the id in the path' }],
          },
        );
      }
      const { created } = await putAccount(
        app.database.db,
        request.principal.tenantId,
        request.body,
        actorOf(request),
      );
      app.configCache.invalidate(request.principal.tenantId);
      app.gate.capacityChanged(request.principal.tenantId);
      return reply.status(created ? 201 : 200).send({ account: accountToWire(request.body), created });
    },
  );

  app.put(
    '/v1/accounts/:id/reset',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['register'],
        summary: "Set a window's reset instant by hand (merged by reset precedence)",
        params: idParams,
        body: z.object({
          window: idSchema,
          resetAt: instantSchema,
          confidence: confidenceSchema.default('user'),
        }),
      },
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      const accounts = await listAccounts(app.database.db, tenantId);
      const account = accounts.find((a) => a.id === request.params.id);
      if (!account) throw new BudgetApiError('BUDGET_ERR_NOT_FOUND', `no account "${request.params.id}"`);
      const result = await setReset(
        app.database.db,
        tenantId,
        account,
        request.body.window,
        request.body.resetAt,
        request.body.confidence,
        DateTime.utc(),
      );
      app.gate.capacityChanged(tenantId);
      return { account: account.id, window: request.body.window, ...result };
    },
  );

  app.get(
    '/v1/policy',
    {
      config: { scope: 'read' },
      schema: { tags: ['register'], summary: 'The current policy and its version' },
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      const [held, history] = await Promise.all([
        currentPolicy(app.database.db, tenantId),
        policyHistory(app.database.db, tenantId),
      ]);
      return {
        version: held.version,
        policy: held.document,
        createdAt: held.createdAt || undefined,
        createdBy: held.createdBy || undefined,
        history,
      };
    },
  );

  app.put(
    '/v1/policy',
    {
      config: { scope: 'admin' },
      preValidation: keepRawBody,
      schema: {
        tags: ['register'],
        summary: "Replace the policy (validated by the core's schema)",
        body: policySchema,
      },
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      const version = await putPolicy(app.database.db, tenantId, request.rawBody, actorOf(request));
      app.configCache.invalidate(tenantId);
      app.gate.capacityChanged(tenantId);
      return { version };
    },
  );

  app.post(
    '/v1/authorizations',
    {
      config: { scope: 'admin' },
      preValidation: keepRawBody,
      schema: { tags: ['register'], summary: 'Record an authorization', body: authorizationSchema },
    },
    async (request, reply) => {
      const tenantId = request.principal.tenantId;
      const document = { ...(request.rawBody as Record<string, unknown>) };
      delete document.revokedAt;
      await addAuthorization(app.database.db, tenantId, document, request.body.id, actorOf(request));
      app.configCache.invalidate(tenantId);
      app.gate.capacityChanged(tenantId);
      return reply.status(201).send({ authorization: document });
    },
  );

  app.get(
    '/v1/authorizations',
    {
      config: { scope: 'read' },
      schema: { tags: ['register'], summary: 'List authorizations (live, expired, revoked)' },
    },
    async (request) => {
      const list = await listAuthorizations(app.database.db, request.principal.tenantId);
      return { authorizations: list.map((a) => ({ ...a.document, createdAt: a.createdAt })) };
    },
  );

  app.delete(
    '/v1/authorizations/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['register'],
        summary: 'Revoke an authorization',
        params: z.object({ id: z.string().min(1).max(128) }),
      },
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      const revoked = await revokeAuthorization(app.database.db, tenantId, request.params.id);
      if (!revoked)
        throw new BudgetApiError('BUDGET_ERR_NOT_FOUND', `no live authorization "${request.params.id}"`);
      app.configCache.invalidate(tenantId);
      return { id: request.params.id, revoked: true };
    },
  );

  app.get(
    '/v1/ledger',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['register'],
        summary: 'The spend ledger, newest first, paged by cursor',
        querystring: z.object({
          mission: labelSchema.optional(),
          task: labelSchema.optional(),
          account: idSchema.optional(),
          from: optionalInstant,
          to: optionalInstant,
          cursor: z.string().max(512).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => listLedger(app.database.db, request.principal.tenantId, request.query),
  );

  app.get(
    '/v1/estimates',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['register'],
        summary:
          'What has been learnt about task sizes per task class and model: central estimate, the P90 the gate reserves, and the error of past estimates',
      },
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      const config = await app.configCache.get(tenantId);
      return { estimates: await listEstimates(app.database.db, tenantId, config.policy.policy) };
    },
  );

  app.get(
    '/v1/pace',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['register'],
        summary: 'Pace per account and window: used %, target, ideal vs actual, projected exhaustion, reset',
        querystring: z.object({ account: idSchema.optional() }),
      },
    },
    async (request) => {
      return paceReport(
        app.database.db,
        request.principal.tenantId,
        app.configCache,
        DateTime.utc(),
        request.query.account,
      );
    },
  );

  app.get(
    '/v1/reports/spend.md',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['register'],
        summary: 'Markdown report: projected vs actual tokens and USD per mission and task',
        querystring: z.object({
          mission: labelSchema.optional(),
          from: optionalInstant,
          to: optionalInstant,
        }),
      },
    },
    async (request, reply) => {
      const md = await spendReport(app.database.db, request.principal.tenantId, request.query);
      return reply.type('text/markdown; charset=utf-8').send(md);
    },
  );
  return Promise.resolve();
};
