import type { TestDatabase } from './backends.js';

/** How many usage signals the audit trail holds for a tenant. */
export async function usageSignalCount(env: TestDatabase, tenant: string): Promise<number> {
  const rows = await env.database.db
    .selectFrom('fleet.usage_signals')
    .select('id')
    .where('tenant_id', '=', tenant)
    .execute();
  return rows.length;
}
