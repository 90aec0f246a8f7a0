import { z } from 'zod';
import type { Runner } from '../../action.js';
import { parseFlags } from '../../flags.js';
import { openDatabaseFor, openDirect } from '../../direct.js';

/** Applies migrations and lists the ones it ran. */
export const run: Runner = async (ctx, raw) => {
  const f = parseFlags(z.object({ databaseUrl: z.string().min(1).optional() }), raw);
  const d = await openDirect(ctx);
  const database = await openDatabaseFor(ctx, d, f.databaseUrl);
  try {
    const result = await d.api.migrate(database.db);
    const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (ctx.json) ctx.printJson({ applied, known: d.api.MIGRATION_NAMES });
    else if (applied.length) ctx.print(`applied ${applied.length} migration(s): ${applied.join(', ')}`);
    else ctx.print(`up to date (${d.api.MIGRATION_NAMES.length} migrations)`);
  } finally {
    await database.close();
  }
};
