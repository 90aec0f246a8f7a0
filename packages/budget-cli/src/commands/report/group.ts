import { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import { dec, ZERO } from '@mosaic/budget-core';

/** What a report can group by; several combine (`day,model`). */
export const GROUP_KEYS = [
  'day',
  'week',
  'month',
  'mission',
  'task',
  'model',
  'account',
  'agent',
  'host',
] as const;
/** One of {@link GROUP_KEYS}. */
export type GroupKey = (typeof GROUP_KEYS)[number];

/** A ledger entry as `GET /v1/ledger` returns it (the fields a report reads). */
export interface LedgerRow {
  host: string;
  agent: string;
  mission?: string;
  task: string;
  account: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  usd: string;
  kind: string;
  occurredAt: string;
}

/** Token and USD totals of one kind (projected or actual). */
export interface Totals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  usd: string;
}

/** One report row: the group's keys, then projected and actual totals. */
export type ReportRow = Partial<Record<GroupKey, string>> & { projected: Totals; actual: Totals };

interface Acc {
  keys: Partial<Record<GroupKey, string>>;
  totals: Record<'projected' | 'actual', { i: number; o: number; r: number; w: number; usd: Decimal }>;
}

function keyOf(row: LedgerRow, key: GroupKey, zone: string): string {
  const at = (): DateTime => DateTime.fromISO(row.occurredAt, { zone });
  switch (key) {
    case 'day':
      return at().toISODate() ?? '';
    case 'week':
      return at().toFormat("kkkk-'W'WW");
    case 'month':
      return at().toFormat('yyyy-MM');
    case 'mission':
      return row.mission ?? '(none)';
    default:
      return row[key];
  }
}

const empty = (): Acc['totals']['actual'] => ({ i: 0, o: 0, r: 0, w: 0, usd: ZERO });

/**
 * Sums ledger rows per group, separately for projected and actual, with exact decimal USD. Days,
 * weeks (ISO) and months are calendar periods in `zone`. Rows come back sorted by their keys.
 */
export function groupLedger(rows: Iterable<LedgerRow>, keys: readonly GroupKey[], zone: string): ReportRow[] {
  const groups = new Map<string, Acc>();
  for (const row of rows) {
    const k: Partial<Record<GroupKey, string>> = {};
    for (const key of keys) k[key] = keyOf(row, key, zone);
    const id = JSON.stringify(keys.map((key) => k[key]));
    let acc = groups.get(id);
    if (!acc) {
      acc = { keys: k, totals: { projected: empty(), actual: empty() } };
      groups.set(id, acc);
    }
    const t = acc.totals[row.kind === 'projected' ? 'projected' : 'actual'];
    t.i += row.inputTokens;
    t.o += row.outputTokens;
    t.r += row.cacheReadTokens;
    t.w += row.cacheWriteTokens;
    t.usd = t.usd.plus(dec(row.usd));
  }
  const out = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const totals = (t: Acc['totals']['actual']): Totals => ({
    inputTokens: t.i,
    outputTokens: t.o,
    cacheReadTokens: t.r,
    cacheWriteTokens: t.w,
    usd: t.usd.toFixed(),
  });
  return out.map(([, a]) => ({
    ...a.keys,
    projected: totals(a.totals.projected),
    actual: totals(a.totals.actual),
  }));
}
