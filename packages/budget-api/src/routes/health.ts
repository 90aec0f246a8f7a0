import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { isMigrated } from '../db/migrate.js';

/** `/healthz` (the process is up) and `/readyz` (the database answers and is migrated). */
export const healthRoutes: FastifyPluginAsyncZod = (app) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } },
    () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        response: { 200: z.object({ status: z.literal('ready') }), 503: z.looseObject({ code: z.string() }) },
      },
    },
    async (_request, reply) => {
      let ready = false;
      try {
        ready = await isMigrated(app.database.db);
      } catch {
        ready = false;
      }
      if (!ready) {
        return reply.status(503).header('retry-after', '5').type('application/problem+json').send({
          type: 'https://mosaic.dev/problems/not-ready',
          title: 'The service is not ready',
          status: 503,
          detail: 'the database is unreachable or its migrations are not applied',
          code: 'BUDGET_ERR_NOT_READY',
        });
      }
      return { status: 'ready' as const };
    },
  );
  return Promise.resolve();
};
