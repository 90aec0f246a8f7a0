import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { FleetDb } from '../db/database.js';
import type { Principal, Scope } from './scopes.js';

/** A freshly created token: `token` is shown once and never stored. */
export interface CreatedToken {
  id: string;
  token: string;
  tenantId: string;
  scopes: Scope[];
}

const TOKEN_SHAPE = /^mbt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The stored form of a token: its SHA-256, hex (the token itself is never stored). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates the tenant row when it does not exist yet (tokens, policies and accounts hang off it). */
export async function ensureTenant(db: FleetDb, tenantId: string): Promise<void> {
  await db
    .insertInto('fleet.tenants')
    .values({ id: tenantId })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * Creates a bearer token for a tenant (creating the tenant if needed); only its SHA-256 is stored.
 * @example const { token } = await createToken(db, { tenant: 'default', scopes: ['admin'] });
 */
export async function createToken(
  db: FleetDb,
  options: { tenant: string; scopes: Scope[]; name?: string },
): Promise<CreatedToken> {
  await ensureTenant(db, options.tenant);
  const id = randomBytes(8).toString('hex');
  const token = `mbt_${id}_${randomBytes(32).toString('base64url')}`;
  await db
    .insertInto('fleet.api_tokens')
    .values({
      id,
      tenant_id: options.tenant,
      token_hash: hashToken(token),
      scopes: JSON.stringify(options.scopes),
      name: options.name ?? null,
    })
    .execute();
  return { id, token, tenantId: options.tenant, scopes: [...options.scopes] };
}

/** Revokes a token by its public id (or by the token itself); true when a live token was revoked. */
export async function revokeToken(db: FleetDb, idOrToken: string, tenant?: string): Promise<boolean> {
  const id = TOKEN_SHAPE.exec(idOrToken)?.[1] ?? idOrToken;
  let query = db
    .updateTable('fleet.api_tokens')
    .set({ revoked_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('revoked_at', 'is', null);
  if (tenant) query = query.where('tenant_id', '=', tenant);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** True when some live admin token exists for the tenant (bootstrap creates one only when none does). */
export async function hasAdminToken(db: FleetDb, tenant: string): Promise<boolean> {
  const rows = await db
    .selectFrom('fleet.api_tokens')
    .select('scopes')
    .where('tenant_id', '=', tenant)
    .where('revoked_at', 'is', null)
    .execute();
  return rows.some((r) => r.scopes.includes('admin'));
}

/**
 * Stores a caller-chosen token (from `BUDGET_BOOTSTRAP_TOKEN`) as an admin token, unless that exact
 * token is already stored.
 */
export async function importToken(
  db: FleetDb,
  options: { tenant: string; token: string; scopes: Scope[]; name?: string },
): Promise<{ id: string; created: boolean }> {
  await ensureTenant(db, options.tenant);
  const hash = hashToken(options.token);
  const existing = await db
    .selectFrom('fleet.api_tokens')
    .select('id')
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  if (existing) return { id: existing.id, created: false };
  const id = TOKEN_SHAPE.exec(options.token)?.[1] ?? randomBytes(8).toString('hex');
  // Several replicas start with the same bootstrap token at once: the first insert wins, the rest no-op.
  const inserted = await db
    .insertInto('fleet.api_tokens')
    .values({
      id,
      tenant_id: options.tenant,
      token_hash: hash,
      scopes: JSON.stringify(options.scopes),
      name: options.name ?? 'bootstrap',
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return { id, created: inserted !== undefined };
}

/**
 * Resolves a bearer token to its principal, or undefined when unknown or revoked. The lookup is by
 * hash; the final comparison is constant-time so response timing says nothing about near misses.
 */
export async function verifyToken(db: FleetDb, token: string): Promise<Principal | undefined> {
  if (token.length > 512) return undefined;
  const hash = hashToken(token);
  const row = await db
    .selectFrom('fleet.api_tokens')
    .select(['id', 'tenant_id', 'token_hash', 'scopes', 'revoked_at', 'last_used_at'])
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  if (!row || row.revoked_at) return undefined;
  const a = Buffer.from(row.token_hash, 'hex');
  const b = Buffer.from(hash, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
  // last_used_at is advisory: update it at most once a minute so hot tokens do not write every request.
  const lastUsed = row.last_used_at ? new Date(row.last_used_at).getTime() : 0;
  if (Date.now() - lastUsed > 60_000) {
    await db
      .updateTable('fleet.api_tokens')
      .set({ last_used_at: sql<Date>`now()` })
      .where('id', '=', row.id)
      .execute();
  }
  return { tenantId: row.tenant_id, scopes: row.scopes as Scope[], tokenId: row.id };
}
