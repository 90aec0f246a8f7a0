import { z } from 'zod';
import { labelSchema, timezoneSchema } from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { parseFlags } from '../../flags.js';
import { call, callText, query } from '../../transport/call.js';
import { table } from '../../output/table.js';
import { localZone, whenFlag } from '../../when.js';
import { GROUP_KEYS, groupLedger, type GroupKey, type LedgerRow } from './group.js';

const flagsSchema = z.object({
  mission: labelSchema.optional(),
  from: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  groupBy: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z.array(z.enum(GROUP_KEYS, { message: `each key must be one of ${GROUP_KEYS.join(', ')}` })).min(1),
    ),
  timezone: timezoneSchema.optional(),
});

// The service's largest ledger page.
const PAGE = 1000;

/** Prints the Markdown report, or grouped rows (a table, or JSON with --json). */
export const run: Runner = async (ctx, raw, _args) => {
  const f = parseFlags(flagsSchema, raw);
  const zone = f.timezone ?? localZone();
  const from =
    f.from !== undefined ? (whenFlag('--from', f.from, zone).toUTC().toISO() ?? undefined) : undefined;
  const to = f.to !== undefined ? (whenFlag('--to', f.to, zone).toUTC().toISO() ?? undefined) : undefined;
  const t = await ctx.transport();
  const grouped = ctx.json || raw.groupBy !== 'day';
  if (!grouped) {
    ctx.print(
      (await callText(t, 'GET', `/v1/reports/spend.md${query({ mission: f.mission, from, to })}`)).trimEnd(),
    );
    return;
  }
  const rows: LedgerRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await call<{ entries: LedgerRow[]; nextCursor?: string }>(
      t,
      'GET',
      `/v1/ledger${query({ mission: f.mission, from, to, cursor, limit: PAGE })}`,
    );
    rows.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  const keys: GroupKey[] = f.groupBy;
  const report = groupLedger(rows, keys, zone);
  if (ctx.json) {
    ctx.printJson({ groupBy: keys, timezone: zone, rows: report });
    return;
  }
  const headers = [
    ...keys.map((k) => k.toUpperCase()),
    'INPUT',
    'OUTPUT',
    'CACHE R',
    'CACHE W',
    'USD',
    'PROJ USD',
  ];
  ctx.print(
    table(
      headers,
      report.map((r) => [
        ...keys.map((k) => r[k] ?? ''),
        String(r.actual.inputTokens),
        String(r.actual.outputTokens),
        String(r.actual.cacheReadTokens),
        String(r.actual.cacheWriteTokens),
        r.actual.usd,
        r.projected.usd,
      ]),
      ['INPUT', 'OUTPUT', 'CACHE R', 'CACHE W', 'USD', 'PROJ USD'],
    ),
  );
};
