// The public door of @mosaic/budget-api: the service factory, its database and its tokens.
export { buildApp, LOG_REDACT_PATHS } from './app.js';
export type { AppDeps } from './app.js';
export { startServer } from './server.js';
export type { StartServerOptions, RunningServer } from './server.js';
export { openDatabase, defaultDataDir } from './db/database.js';
export type { Database, FleetDb, OpenDatabaseOptions } from './db/database.js';
export { lockDataDir } from './db/lock.js';
export type { LockHolder, DataDirLock } from './db/lock.js';
export { migrate, isMigrated, MIGRATION_NAMES } from './db/migrate.js';
export { createToken, revokeToken, verifyToken, ensureTenant } from './auth/tokens.js';
export type { CreatedToken } from './auth/tokens.js';
export { SCOPES, scopeSchema, hasScope } from './auth/scopes.js';
export type { Scope, Principal } from './auth/scopes.js';
export { BudgetApiError, ERROR_CODES, problem } from './errors.js';
export type { ErrorCode, Problem, ProblemIssue } from './errors.js';
export { readEnv, envSchema } from './config.js';
export type { Env } from './config.js';
