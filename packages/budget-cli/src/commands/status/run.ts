import { z } from 'zod';
import { DateTime } from 'luxon';
import { idSchema } from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { parseFlags } from '../../flags.js';
import { call, query } from '../../transport/call.js';
import { table } from '../../output/table.js';
import { relative } from '../../when.js';
import { paceBar } from './bar.js';

const flagsSchema = z.object({ account: idSchema.optional() });

/** One window as `GET /v1/pace` reports it; fields beyond the first few appear as the service grows them. */
export interface PaceWindow {
  window: string;
  usedPercent: string;
  reservedPercent?: string;
  observedAt?: string;
  resetAt?: string;
  resetConfidence?: string;
  idealPercent?: string;
  /** Percentage points ahead (+) or behind (−) of the ideal line. */
  leadPercent?: string;
  status?: string;
  targetPerDayPercent?: string;
  headroomPercent?: string;
  projectedExhaustion?: string;
  exhaustsBeforeReset?: boolean;
}

/** One account as `GET /v1/pace` reports it. */
export interface PaceAccount {
  account: string;
  provider: string;
  inflight?: number;
  windows: PaceWindow[];
  ceilingPeriod?: { start: string; end: string; committedUsd: string; reservedUsd: string };
}

interface QueueBody {
  accounts?: { account: string; waiting: unknown[] }[];
}

function depthByAccount(q: QueueBody): Map<string, number> {
  return new Map((q.accounts ?? []).map((a) => [a.account, a.waiting.length]));
}

function fmt(text: string | undefined, digits = 1): string {
  if (text === undefined) return '-';
  const n = Number(text);
  return Number.isFinite(n) ? n.toFixed(digits) : text;
}

/** Prints the pace table (or the service's JSON with queue depth merged in). */
export const run: Runner = async (ctx, raw) => {
  const f = parseFlags(flagsSchema, raw);
  const t = await ctx.transport();
  const pace = await call<{ at: string; accounts: PaceAccount[] }>(
    t,
    'GET',
    `/v1/pace${query({ account: f.account })}`,
  );
  const queue: QueueBody = await call<QueueBody>(t, 'GET', '/v1/queue').catch(() => ({}));
  const depth = depthByAccount(queue);
  if (ctx.json) {
    ctx.printJson({
      ...pace,
      accounts: pace.accounts.map((a) => ({ ...a, queueDepth: depth.get(a.account) ?? 0 })),
    });
    return;
  }
  const c = ctx.color;
  const now = DateTime.fromISO(pace.at, { setZone: true });
  const rows: string[][] = [];
  for (const a of pace.accounts) {
    const q = String(depth.get(a.account) ?? 0);
    for (const w of a.windows) {
      const ahead = w.leadPercent !== undefined ? Number(w.leadPercent) : undefined;
      const paceText =
        ahead === undefined
          ? '-'
          : `${paceBar(ahead)} ${
              ahead > 0
                ? c.red(`${fmt(w.leadPercent)} ahead`)
                : ahead < 0
                  ? c.green(`${fmt(String(-ahead))} behind`)
                  : 'on pace'
            }`;
      const exhausts = w.projectedExhaustion
        ? `${relative(DateTime.fromISO(w.projectedExhaustion), now)}${w.exhaustsBeforeReset ? c.red(' !') : ''}`
        : '-';
      rows.push([
        a.account,
        w.window,
        `${fmt(w.usedPercent)}%`,
        w.targetPerDayPercent !== undefined ? `${fmt(w.targetPerDayPercent)}%/d` : '-',
        paceText,
        exhausts,
        w.resetAt ? `${relative(DateTime.fromISO(w.resetAt), now)} [${w.resetConfidence ?? '?'}]` : '-',
        q,
      ]);
    }
    if (a.ceilingPeriod) {
      const cp = a.ceilingPeriod;
      rows.push([
        a.account,
        'ceiling',
        `$${fmt(cp.committedUsd, 2)}+$${fmt(cp.reservedUsd, 2)} held`,
        '-',
        '-',
        '-',
        relative(DateTime.fromISO(cp.end), now),
        q,
      ]);
    }
    if (a.windows.length === 0 && !a.ceilingPeriod)
      rows.push([a.account, c.dim('(no signal yet)'), '-', '-', '-', '-', '-', q]);
  }
  if (rows.length === 0) {
    ctx.print(
      'no accounts yet: create one with `mosaic budget set --account A --provider P --kind subscription --models m`',
    );
    return;
  }
  ctx.print(
    table(['ACCOUNT', 'WINDOW', 'USED', 'TARGET', 'PACE', 'EXHAUSTS', 'RESET', 'QUEUED'], rows, [
      'USED',
      'TARGET',
      'QUEUED',
    ]),
  );
};
