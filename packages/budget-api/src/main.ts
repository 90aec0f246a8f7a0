#!/usr/bin/env node
// Starts the service from the environment (DATABASE_URL, PORT, …): `node packages/budget-api/dist/main.js`.
import { readEnv } from './config.js';
import { startServer } from './server.js';
import { BudgetApiError } from './errors.js';

try {
  const env = readEnv();
  await startServer({
    port: env.PORT,
    host: env.HOST,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.BUDGET_DATA_DIR ? { dataDir: env.BUDGET_DATA_DIR } : {}),
    ...(env.BUDGET_BOOTSTRAP_TOKEN ? { bootstrapToken: env.BUDGET_BOOTSTRAP_TOKEN } : {}),
    bootstrapTenant: env.BUDGET_BOOTSTRAP_TENANT,
    logLevel: env.LOG_LEVEL,
  });
} catch (error) {
  const message = error instanceof BudgetApiError ? `${error.code}: ${error.message}` : String(error);
  process.stderr.write(`mosaic budget service failed to start: ${message}\n`);
  process.exit(1);
}
