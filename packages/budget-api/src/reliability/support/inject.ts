import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from '../../app.js';
import { tenantClient, type TenantClient } from '../../test-support/backends.js';
import type { Scope } from '../../auth/scopes.js';
import { relDatabase, type RelDatabase } from './postgres.js';

/** A fresh PostgreSQL database with one or more in-process apps on it (app.inject: real routing, no socket). */
export interface InjectEnv {
  rel: RelDatabase;
  app: FastifyInstance;
  /** Another app on the same database: a second replica, for concurrent clients. */
  second: FastifyInstance;
  tenant(scopes?: Scope[], name?: string): Promise<TenantClient>;
  close(): Promise<void>;
}

/** Builds two apps (replicas) on a fresh `rel_<label>_…` database, background timers off. */
export async function injectEnv(label: string, logger?: FastifyServerOptions['logger']): Promise<InjectEnv> {
  const rel = await relDatabase(label, { poolSize: 8 });
  const app = await buildApp({ database: rel.database, background: false, ...(logger ? { logger } : {}) });
  const second = await buildApp({ database: rel.database, background: false, ...(logger ? { logger } : {}) });
  return {
    rel,
    app,
    second,
    tenant: (scopes, name) => tenantClient(app, rel.database, scopes, name),
    close: async () => {
      await app.close();
      await second.close();
      await rel.drop();
    },
  };
}

/** The same tenant's token, sent to another app (replica). */
export function via(app: FastifyInstance, client: TenantClient): TenantClient {
  return {
    ...client,
    request: (options) =>
      app.inject({
        ...options,
        headers: { authorization: `Bearer ${client.token}`, ...(options.headers ?? {}) },
      }),
  };
}
