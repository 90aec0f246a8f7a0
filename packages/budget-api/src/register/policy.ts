import { policySchema, type Policy } from '@mosaic/budget-core';
import type { FleetDb } from '../db/database.js';
import { bumpConfigVersion } from './config-version.js';
import { isoOf } from './wire.js';

/** A stored policy version: the document as written, and the parsed policy. */
export interface StoredPolicy {
  version: number;
  document: unknown;
  policy: Policy;
  createdAt: string;
  createdBy: string;
}

/** The tenant's current policy; version 0 with every default when none was ever written. */
export async function currentPolicy(db: FleetDb, tenantId: string): Promise<StoredPolicy> {
  const row = await db
    .selectFrom('fleet.policies')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) {
    return { version: 0, document: {}, policy: policySchema.parse({}), createdAt: '', createdBy: '' };
  }
  return {
    version: row.version,
    document: row.document,
    policy: policySchema.parse(row.document),
    createdAt: isoOf(row.created_at),
    createdBy: row.created_by,
  };
}

/** Stores a new policy version (the document was already validated); returns its version. */
export async function putPolicy(
  db: FleetDb,
  tenantId: string,
  document: unknown,
  actor: string,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    // Bumping first takes the tenant row lock, which serialises concurrent writers of the next version.
    await bumpConfigVersion(trx, tenantId);
    const last = await trx
      .selectFrom('fleet.policies')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    const version = Number(last?.v ?? 0) + 1;
    await trx
      .insertInto('fleet.policies')
      .values({ tenant_id: tenantId, version, document: JSON.stringify(document), created_by: actor })
      .execute();
    return version;
  });
}

/** Every version of the tenant's policy, newest first (who and when). */
export async function policyHistory(
  db: FleetDb,
  tenantId: string,
): Promise<{ version: number; createdAt: string; createdBy: string }[]> {
  const rows = await db
    .selectFrom('fleet.policies')
    .select(['version', 'created_at', 'created_by'])
    .where('tenant_id', '=', tenantId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((r) => ({ version: r.version, createdAt: isoOf(r.created_at), createdBy: r.created_by }));
}
