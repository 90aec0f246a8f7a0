import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** The gate's routes: decisions, reservations and the queue. */
export const gateRoutes: FastifyPluginAsyncZod = async () => {
  await Promise.resolve();
};
