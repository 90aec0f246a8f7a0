import type { DateTime } from 'luxon';
import { sql } from 'kysely';
import type { FleetDb } from '../db/database.js';
import { iso, numeric } from './wire.js';

interface ReportRow {
  mission: string | null;
  task: string;
  kind: string;
  usd: string;
  tokens: string | number;
  n: string | number;
}

/** Projected and actual totals of one task. */
interface Cells {
  projUsd: string;
  projTok: string;
  actUsd: string;
  actTok: string;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/**
 * The Markdown projection of the ledger: projected vs actual tokens and USD per mission and task,
 * aggregated by the database (GROUP BY), never hand-kept.
 */
export async function spendReport(
  db: FleetDb,
  tenantId: string,
  q: { mission?: string; from?: DateTime; to?: DateTime },
): Promise<string> {
  let query = db
    .selectFrom('fleet.spend_ledger')
    .select([
      'mission',
      'task',
      'kind',
      sql<string>`sum(usd)::text`.as('usd'),
      sql<string>`sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::text`.as(
        'tokens',
      ),
      sql<string>`count(*)::text`.as('n'),
    ])
    .where('tenant_id', '=', tenantId);
  if (q.mission !== undefined) query = query.where('mission', '=', q.mission);
  if (q.from) query = query.where('occurred_at', '>=', iso(q.from));
  if (q.to) query = query.where('occurred_at', '<', iso(q.to));
  const rows = (await query
    .groupBy(['mission', 'task', 'kind'])
    .orderBy('mission')
    .orderBy('task')
    .execute()) as ReportRow[];

  const byMission = new Map<string, Map<string, Cells>>();
  for (const r of rows) {
    const mission = r.mission ?? '(none)';
    const tasks = byMission.get(mission) ?? new Map<string, Cells>();
    byMission.set(mission, tasks);
    const t: Cells = tasks.get(r.task) ?? { projUsd: '0', projTok: '0', actUsd: '0', actTok: '0' };
    if (r.kind === 'projected') {
      t.projUsd = numeric(r.usd).toString();
      t.projTok = String(r.tokens);
    } else {
      t.actUsd = numeric(r.usd).toString();
      t.actTok = String(r.tokens);
    }
    tasks.set(r.task, t);
  }
  const lines: string[] = ['# Spend report', ''];
  const range = [q.from ? `from ${iso(q.from)}` : '', q.to ? `to ${iso(q.to)}` : '']
    .filter(Boolean)
    .join(' ');
  lines.push(
    `Generated from the ledger${range ? ` (${range})` : ''}${q.mission ? ` for mission ${cell(q.mission)}` : ''}.`,
    '',
  );
  if (byMission.size === 0) lines.push('No spend recorded.', '');
  for (const [mission, tasks] of byMission) {
    lines.push(`## Mission ${cell(mission)}`, '');
    lines.push(
      '| Task | Projected tokens | Actual tokens | Projected USD | Actual USD | Actual − projected USD |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    let pu = numeric(0);
    let au = numeric(0);
    for (const [task, t] of tasks) {
      const diff = numeric(t.actUsd).minus(numeric(t.projUsd));
      pu = pu.plus(numeric(t.projUsd));
      au = au.plus(numeric(t.actUsd));
      lines.push(
        `| ${cell(task)} | ${t.projTok} | ${t.actTok} | ${t.projUsd} | ${t.actUsd} | ${diff.toString()} |`,
      );
    }
    lines.push(
      `| **Total** | | | **${pu.toString()}** | **${au.toString()}** | **${au.minus(pu).toString()}** |`,
      '',
    );
  }
  return lines.join('\n');
}
