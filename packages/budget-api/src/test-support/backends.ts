import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../app.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createToken } from '../auth/tokens.js';
import type { Scope } from '../auth/scopes.js';

/** The PostgreSQL the integration suites use (a fresh database per test file is created inside it). */
export const TEST_DATABASE_URL =
  process.env.MOSAIC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function probePostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether PostgreSQL answers; under CI its absence fails the suites instead of skipping them. */
export const POSTGRES_AVAILABLE = await probePostgres();
const MUST_RUN_POSTGRES = process.env.CI === 'true';

/** The two backends every integration suite runs on. */
export type Backend = 'postgres' | 'pglite';

/** A fresh, migrated database of one backend, and how to throw it away. */
export interface TestDatabase {
  backend: Backend;
  database: Database;
  /** The URL of the fresh PostgreSQL database (postgres only). */
  databaseUrl?: string;
  teardown(): Promise<void>;
}

/** Creates a fresh database: a new PostgreSQL database, or PGlite in a new temp directory. */
export async function freshDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'mosaic-api-test-'));
    const database = await openDatabase({ dataDir: dir });
    await migrate(database.db);
    return {
      backend,
      database,
      teardown: async () => {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!POSTGRES_AVAILABLE) {
    throw new Error(
      `PostgreSQL at ${TEST_DATABASE_URL} is unreachable and CI=true: the integration suite must not skip`,
    );
  }
  const name = `mosaic_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 8 });
  await migrate(database.db);
  return {
    backend,
    database,
    databaseUrl: url.toString(),
    teardown: async () => {
      await database.close();
      const dropper = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/** A client of one tenant: requests carry its bearer token. */
export interface TenantClient {
  tenant: string;
  token: string;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
}

/** What each integration test gets: the backend, the app, and a way to make tenants. */
export interface TestEnv extends TestDatabase {
  app: FastifyInstance;
  /** A new tenant with a token of the given scopes (admin by default). */
  tenant(scopes?: Scope[]): Promise<TenantClient>;
}

/** Creates a tenant with a token and returns a client that sends it. */
export async function tenantClient(
  app: FastifyInstance,
  database: Database,
  scopes: Scope[] = ['admin'],
  name?: string,
): Promise<TenantClient> {
  const tenant = name ?? `t-${randomBytes(5).toString('hex')}`;
  const { token } = await createToken(database.db, { tenant, scopes });
  return {
    tenant,
    token,
    request: (options) =>
      app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...(options.headers ?? {}) } }),
  };
}

/**
 * Runs the same suite on PostgreSQL and on PGlite: one database (and app) per backend per file,
 * shared by the file's tests, which isolate themselves by using their own tenants.
 */
export function describeOnBackends(name: string, body: (env: () => TestEnv) => void): void {
  for (const backend of ['postgres', 'pglite'] as const) {
    const skip = backend === 'postgres' && !POSTGRES_AVAILABLE && !MUST_RUN_POSTGRES;
    describe.skipIf(skip)(`${name} [${backend}]`, () => {
      let env: TestEnv | undefined;
      beforeAll(async () => {
        const db = await freshDatabase(backend);
        const app = await buildApp({
          database: db.database,
          background: false,
          logger: process.env.MOSAIC_TEST_LOG ? { level: process.env.MOSAIC_TEST_LOG } : false,
        });
        env = {
          ...db,
          app,
          tenant: (scopes) => tenantClient(app, db.database, scopes),
          teardown: async () => {
            await app.close();
            await db.teardown();
          },
        };
      });
      afterAll(async () => {
        await env?.teardown();
      });
      body(() => {
        if (!env) throw new Error('the test database is not set up');
        return env;
      });
    });
  }
}
