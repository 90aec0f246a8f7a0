import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { databaseNow } from '../gate/snapshot.js';
import { instant } from '../register/wire.js';
import { metricsRoutes } from '../routes/metrics.js';
import { uiRoutes } from '../routes/ui.js';
import { readPaceState } from './pace-state.js';
import { RegisterGauges } from './register-gauges.js';

/** What {@link registerObservability} takes. */
export interface ObservabilityOptions {
  /** Serve `/metrics` without a token (all tenants); default from `BUDGET_METRICS_PUBLIC`, else false. */
  metricsPublic?: boolean;
}

const envSchema = z.object({
  BUDGET_METRICS_PUBLIC: z
    .enum(['true', 'false', '1', '0', ''])
    .optional()
    .transform((v) => v === 'true' || v === '1'),
});

/** Whether the environment asks for an open `/metrics` (`BUDGET_METRICS_PUBLIC=true`). */
export function metricsPublicFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return envSchema.parse({ BUDGET_METRICS_PUBLIC: env.BUDGET_METRICS_PUBLIC }).BUDGET_METRICS_PUBLIC;
}

/**
 * Adds metrics, the register's scrape-time gauges and the dashboard to the app. Call it on the
 * root instance before the routes are registered: the gate-duration hook must see `/v1/gate`.
 */
export async function registerObservability(
  app: FastifyInstance,
  options: ObservabilityOptions = {},
): Promise<void> {
  const metrics = app.gate.metrics;
  new RegisterGauges(
    metrics.registry,
    async () => readPaceState(app.database.db, app.configCache, instant(await databaseNow(app.database.db))),
    (error) =>
      app.log.warn({ err: error instanceof Error ? error.message : error }, 'metrics: register read failed'),
  );
  app.addHook('onResponse', (request, reply, done) => {
    if (request.method === 'POST' && request.routeOptions.url === '/v1/gate' && request.principal) {
      metrics.gateDuration.observe({ tenant: request.principal.tenantId }, reply.elapsedTime / 1000);
    }
    done();
  });
  await app.register(metricsRoutes, { public: options.metricsPublic ?? metricsPublicFromEnv() });
  await app.register(uiRoutes);
}
