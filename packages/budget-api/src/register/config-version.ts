import { sql, type Kysely } from 'kysely';
import type { FleetDatabase } from '../db/schema.js';

/**
 * Moves a tenant's configuration version. Every change of policy, accounts or authorizations calls
 * it in the same transaction, so a replica that reads the version sees a cached configuration is stale.
 */
export async function bumpConfigVersion(trx: Kysely<FleetDatabase>, tenantId: string): Promise<void> {
  await trx
    .insertInto('fleet.tenants')
    .values({ id: tenantId, config_version: 1 })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ config_version: sql`fleet.tenants.config_version + 1` }),
    )
    .execute();
}

/** A tenant's current configuration version (0 when it has none). */
export async function readConfigVersion(db: Kysely<FleetDatabase>, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('fleet.tenants')
    .select('config_version')
    .where('id', '=', tenantId)
    .executeTakeFirst();
  return row ? Number(row.config_version) : 0;
}
