import { sql } from 'kysely';
import { accountSchema, type Account, type AccountInput } from '@mosaic/budget-core';
import type { FleetDb } from '../db/database.js';
import type { AccountWindowsTable, AccountsTable } from '../db/schema.js';
import { bumpConfigVersion } from './config-version.js';

/** An account as the wire carries it (decimals and durations as strings). */
export function accountToWire(account: Account): AccountInput {
  return {
    id: account.id,
    provider: account.provider,
    kind: account.kind,
    models: [...account.models],
    timezone: account.timezone,
    windows: account.windows.map((w) => ({
      name: w.name,
      length: w.length.toISO(),
      rolling: w.rolling,
      ...(w.models ? { models: [...w.models] } : {}),
      ...(w.capacityUsd ? { capacityUsd: w.capacityUsd.toString() } : {}),
    })),
    ...(account.ceiling
      ? { ceiling: { usd: account.ceiling.usd.toString(), period: account.ceiling.period } }
      : {}),
    ...(account.concurrency !== undefined ? { concurrency: account.concurrency } : {}),
  };
}

function rowsToAccount(
  row: Pick<AccountsTable, 'id' | 'provider' | 'kind' | 'timezone' | 'ceiling_period' | 'concurrency'> & {
    models: string[];
    ceiling_usd: string | null;
  },
  windows: (Omit<AccountWindowsTable, 'models' | 'capacity_usd'> & {
    models: string[] | null;
    capacity_usd: string | null;
  })[],
): Account {
  // Parsing through the core's schema keeps one definition of what an account is.
  return accountSchema.parse({
    id: row.id,
    provider: row.provider,
    kind: row.kind,
    models: row.models,
    timezone: row.timezone,
    windows: windows
      .sort((a, b) => a.position - b.position)
      .map((w) => ({
        name: w.name,
        length: w.length,
        rolling: w.rolling,
        ...(w.models ? { models: w.models } : {}),
        ...(w.capacity_usd !== null ? { capacityUsd: String(w.capacity_usd) } : {}),
      })),
    ...(row.ceiling_usd !== null && row.ceiling_period
      ? { ceiling: { usd: String(row.ceiling_usd), period: row.ceiling_period } }
      : {}),
    ...(row.concurrency !== null ? { concurrency: row.concurrency } : {}),
  });
}

/** Every account of a tenant, with its windows, ordered by id. */
export async function listAccounts(db: FleetDb, tenantId: string): Promise<Account[]> {
  const [rows, windows] = await Promise.all([
    db.selectFrom('fleet.accounts').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute(),
    db.selectFrom('fleet.account_windows').selectAll().where('tenant_id', '=', tenantId).execute(),
  ]);
  return rows.map((row) =>
    rowsToAccount(
      row,
      windows.filter((w) => w.account_id === row.id),
    ),
  );
}

/** Creates or replaces an account and its windows; returns whether it was created. */
export async function putAccount(
  db: FleetDb,
  tenantId: string,
  account: Account,
  actor: string,
): Promise<{ created: boolean }> {
  return db.transaction().execute(async (trx) => {
    const values = {
      tenant_id: tenantId,
      id: account.id,
      provider: account.provider,
      kind: account.kind,
      models: JSON.stringify(account.models),
      timezone: account.timezone,
      ceiling_usd: account.ceiling ? account.ceiling.usd.toString() : null,
      ceiling_period: account.ceiling ? account.ceiling.period : null,
      concurrency: account.concurrency ?? null,
      updated_by: actor,
    };
    const existed = await trx
      .selectFrom('fleet.accounts')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', account.id)
      .forUpdate()
      .executeTakeFirst();
    if (existed) {
      await trx
        .updateTable('fleet.accounts')
        .set({ ...values, updated_at: sql<Date>`now()` })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', account.id)
        .execute();
    } else {
      await trx.insertInto('fleet.accounts').values(values).execute();
    }
    await trx
      .deleteFrom('fleet.account_windows')
      .where('tenant_id', '=', tenantId)
      .where('account_id', '=', account.id)
      .execute();
    if (account.windows.length > 0) {
      await trx
        .insertInto('fleet.account_windows')
        .values(
          account.windows.map((w, position) => ({
            tenant_id: tenantId,
            account_id: account.id,
            name: w.name,
            position,
            length: w.length.toISO(),
            rolling: w.rolling,
            models: JSON.stringify(w.models ?? null),
            capacity_usd: w.capacityUsd ? w.capacityUsd.toString() : null,
          })),
        )
        .execute();
    }
    // State of windows the account no longer has would never be read again; drop it.
    const names = account.windows.map((w) => w.name);
    let stale = trx
      .deleteFrom('fleet.window_state')
      .where('tenant_id', '=', tenantId)
      .where('account_id', '=', account.id);
    if (names.length > 0) stale = stale.where('window_name', 'not in', names);
    await stale.execute();
    await bumpConfigVersion(trx, tenantId);
    return { created: !existed };
  });
}
