import type * as BudgetApi from '@mosaic/budget-api';
import type { SinkAnswer, SpoolSink } from './drain.js';

type Api = typeof BudgetApi;
/** The service's app, as `buildApp` returns it. */
export type ServiceApp = Awaited<ReturnType<Api['buildApp']>>;
type Database = Awaited<ReturnType<Api['openDatabase']>>;

/**
 * A spool sink that writes through the service's own `POST /v1/usage-signals` route in this process
 * (`app.inject()`), as an admin of each spooled tenant: the same validation and register code as a
 * signal sent over HTTP. `apps` may hold an app already built for a tenant (local mode's); the others
 * are built on first use over the same open database and closed by `close()`.
 */
export function registerSink(
  api: Api,
  database: Database,
  apps: Map<string, ServiceApp> = new Map(),
): { sink: SpoolSink; close: () => Promise<void> } {
  const built: ServiceApp[] = [];
  const appFor = async (tenant: string): Promise<ServiceApp> => {
    const known = apps.get(tenant);
    if (known) return known;
    const app = await api.buildApp({
      database,
      localPrincipal: { tenantId: tenant, scopes: ['admin'] },
      background: false,
    });
    apps.set(tenant, app);
    built.push(app);
    return app;
  };
  const sink: SpoolSink = async (tenant, signals): Promise<SinkAnswer> => {
    const app = await appFor(tenant);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/usage-signals',
      payload: JSON.stringify({ signals }),
      headers: { 'content-type': 'application/json' },
    });
    if (res.statusCode < 300) return { status: 'ok' };
    let detail = `HTTP ${res.statusCode}`;
    try {
      const doc = JSON.parse(res.body) as { detail?: string; code?: string };
      detail = doc.detail ?? doc.code ?? detail;
    } catch {
      // A body that is not a problem document: the status says enough.
    }
    return res.statusCode >= 500
      ? { status: 'unavailable', message: detail }
      : { status: 'rejected', message: detail };
  };
  return {
    sink,
    close: async () => {
      for (const app of built) await app.close();
    },
  };
}
