import { sql } from 'kysely';
import { authorizationSchema, type Authorization } from '@mosaic/budget-core';
import type { FleetDb } from '../db/database.js';
import { BudgetApiError } from '../errors.js';
import { bumpConfigVersion } from './config-version.js';
import { isoOf } from './wire.js';

/** A stored authorization: the document as written plus when it was revoked, if it was. */
export interface StoredAuthorization {
  document: Record<string, unknown>;
  authorization: Authorization;
  createdAt: string;
}

function parseStored(document: unknown, revokedAt: Date | string | null): Authorization {
  const doc = { ...(document as Record<string, unknown>) };
  if (revokedAt) doc.revokedAt = isoOf(revokedAt);
  return authorizationSchema.parse(doc);
}

/** Every authorization of the tenant (live, expired and revoked), newest first. */
export async function listAuthorizations(db: FleetDb, tenantId: string): Promise<StoredAuthorization[]> {
  const rows = await db
    .selectFrom('fleet.authorizations')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    document: {
      ...(r.document as Record<string, unknown>),
      ...(r.revoked_at ? { revokedAt: isoOf(r.revoked_at) } : {}),
    },
    authorization: parseStored(r.document, r.revoked_at),
    createdAt: isoOf(r.created_at),
  }));
}

/** Records a new authorization; an id already used by this tenant is a conflict. */
export async function addAuthorization(
  db: FleetDb,
  tenantId: string,
  document: Record<string, unknown>,
  id: string,
  actor: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await bumpConfigVersion(trx, tenantId);
    const inserted = await trx
      .insertInto('fleet.authorizations')
      .values({ tenant_id: tenantId, id, document: JSON.stringify(document), created_by: actor })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      throw new BudgetApiError('BUDGET_ERR_CONFLICT', `an authorization with id "${id}" already exists`);
    }
  });
}

/** Revokes an authorization now (the database's clock); false when no live one has that id. */
export async function revokeAuthorization(db: FleetDb, tenantId: string, id: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('fleet.authorizations')
      .set({ revoked_at: sql<Date>`now()` })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const revoked = Number(result.numUpdatedRows) > 0;
    if (revoked) await bumpConfigVersion(trx, tenantId);
    return revoked;
  });
}
