import { z } from 'zod';
import { idSchema } from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { parseFlags } from '../../flags.js';
import { openDatabaseFor, openDirect } from '../../direct.js';

const SCOPES = ['gate', 'ingest', 'read', 'admin'] as const;

const createSchema = z.object({
  tenant: z.string({ error: 'is required: the tenant the token acts for' }).pipe(idSchema),
  scopes: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(SCOPES, { message: `each scope must be one of ${SCOPES.join(', ')}` })).min(1)),
  name: z.string().min(1).max(256).optional(),
  databaseUrl: z.string().min(1).optional(),
});

/** Creates a token and prints it once. */
export const runCreate: Runner = async (ctx, raw) => {
  const f = parseFlags(
    createSchema,
    { ...raw, tenant: ctx.globals.tenant },
    'mosaic budget token create --tenant T --scopes gate,read',
  );
  const d = await openDirect(ctx);
  const database = await openDatabaseFor(ctx, d, f.databaseUrl);
  try {
    await d.api.migrate(database.db);
    const created = await d.api.createToken(database.db, {
      tenant: f.tenant,
      scopes: f.scopes,
      ...(f.name ? { name: f.name } : {}),
    });
    if (ctx.json) ctx.printJson(created);
    else {
      ctx.print(
        `token ${created.id} for tenant "${created.tenantId}" with scopes ${created.scopes.join(',')}`,
      );
      ctx.print(`(shown once, store it now) ${created.token}`);
    }
  } finally {
    await database.close();
  }
};

/** Revokes a token. */
export const runRevoke: Runner = async (ctx, raw, args) => {
  const f = parseFlags(
    z.object({ tenant: idSchema.optional(), databaseUrl: z.string().min(1).optional() }),
    raw,
  );
  const id = parseFlags(z.string().min(1).max(512), args[0], 'mosaic budget token revoke <id>');
  const d = await openDirect(ctx);
  const database = await openDatabaseFor(ctx, d, f.databaseUrl);
  try {
    const revoked = await d.api.revokeToken(database.db, id, f.tenant);
    if (ctx.json) ctx.printJson({ id, revoked });
    else ctx.print(revoked ? `revoked ${id}` : `no live token ${id}`);
    if (!revoked) return 5;
  } finally {
    await database.close();
  }
};
