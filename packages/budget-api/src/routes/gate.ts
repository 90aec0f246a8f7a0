import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { dispatchRequestSchema, idSchema, tokenUsageSchema, usdSchema } from '@mosaic/budget-core';

const reservationParams = z.object({ id: z.string().min(1).max(64) });

/** Longest long-poll a client may ask for, in seconds: below common proxy idle timeouts. */
export const MAX_WAIT_SECONDS = 60;

/** The gate's routes: decisions, reservations and the queue. */
export const gateRoutes: FastifyPluginAsyncZod = (app) => {
  app.post(
    '/v1/gate',
    {
      config: { scope: 'gate', confirmsToken: true },
      preValidation: (request, _reply, done) => {
        // The body as sent, kept for the reservation row. No copy: zod's parse builds its output as new
        // objects and never changes its input (a structured clone here cost 6% of the gate's CPU).
        request.rawBody = request.body;
        done();
      },
      schema: {
        tags: ['gate'],
        summary:
          'Ask whether a task may start: allow, downgrade, reroute, queue or refuse (idempotent per taskId)',
        body: dispatchRequestSchema,
      },
    },
    async (request) =>
      app.gate.gate(request.principal.tenantId, request.body, request.rawBody, request.principal.tokenId),
  );

  app.post(
    '/v1/reservations/:id/commit',
    {
      config: { scope: 'gate' },
      schema: {
        tags: ['gate'],
        summary:
          'Record the actual spend of a reservation and free the rest (idempotent; late commits still count)',
        params: reservationParams,
        body: z.object({ actual: tokenUsageSchema.extend({ usd: usdSchema.optional() }) }),
      },
    },
    async (request) => app.gate.commit(request.principal.tenantId, request.params.id, request.body.actual),
  );

  app.post(
    '/v1/reservations/:id/release',
    {
      config: { scope: 'gate', confirmsToken: true },
      schema: {
        tags: ['gate'],
        summary: 'Free everything a reservation holds (idempotent)',
        params: reservationParams,
      },
    },
    async (request) =>
      app.gate.release(request.principal.tenantId, request.params.id, request.principal.tokenId),
  );

  app.get(
    '/v1/queue/:id',
    {
      config: { scope: 'gate' },
      schema: {
        tags: ['gate'],
        summary: 'A queue entry; ?wait=N long-polls up to N seconds for it to leave "waiting"',
        params: reservationParams,
        querystring: z.object({ wait: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).default(0) }),
      },
    },
    async (request) => app.gate.queueEntry(request.principal.tenantId, request.params.id, request.query.wait),
  );

  app.get(
    '/v1/queue',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['gate'],
        summary: 'Waiting work per account, in admission order (urgency, then age)',
        querystring: z.object({ account: idSchema.optional() }),
      },
    },
    async (request) => app.gate.listQueue(request.principal.tenantId, request.query.account),
  );

  return Promise.resolve();
};
