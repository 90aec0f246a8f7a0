import type { FastifyPluginAsync } from 'fastify';
import { renderForTenant } from '../observability/exposition.js';

/** Options of {@link metricsRoutes}. */
export interface MetricsRouteOptions {
  /**
   * Serve every tenant's series without a token (for a scraper on a private network). Off by
   * default: then a bearer token with the `read` scope sees only its own tenant's series.
   */
  public: boolean;
}

/** `GET /metrics`: the Prometheus text exposition of this replica's counters and the register's gauges. */
export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = (app, options) => {
  const registry = app.gate.metrics.registry;
  app.get(
    '/metrics',
    { schema: { hide: true }, ...(options.public ? {} : { config: { scope: 'read' as const } }) },
    async (request, reply) => {
      const text = options.public
        ? await registry.metrics()
        : await renderForTenant(registry, request.principal.tenantId);
      return reply.type(registry.contentType).send(text);
    },
  );
  return Promise.resolve();
};
