import { z } from 'zod';
import { DateTime } from 'luxon';
import type { Runner } from '../../action.js';
import { parseFlags } from '../../flags.js';
import { call, query } from '../../transport/call.js';
import { table } from '../../output/table.js';
import { relative } from '../../when.js';

/** A queue entry as the service reports it (fields the table shows; the rest is kept for --json). */
interface QueueEntry {
  id: string;
  taskId: string;
  status: string;
  account?: string;
  model?: string;
  priority?: number;
  retryAt?: string;
  deadline?: string;
  reason: string;
  reservationId?: string;
  createdAt: string;
}

const flagsSchema = z.object({ wait: z.coerce.number().int().min(0).max(60).optional() });

function when(text: string | undefined, now: DateTime): string {
  return text ? relative(DateTime.fromISO(text), now) : '-';
}

/** Lists the queue or shows one entry. */
export const run: Runner = async (ctx, raw, args) => {
  const f = parseFlags(flagsSchema, raw);
  const t = await ctx.transport();
  const now = DateTime.utc();
  if (args[0] !== undefined) {
    const id = parseFlags(z.string().min(1).max(128), args[0]);
    const entry = await call<QueueEntry>(
      t,
      'GET',
      `/v1/queue/${encodeURIComponent(id)}${query({ wait: f.wait })}`,
    );
    if (ctx.json) ctx.printJson(entry);
    else {
      ctx.print(
        `${id}: ${entry.status} — task ${entry.taskId} on ${entry.account ?? '?'}/${entry.model ?? '?'}, retry ${when(entry.retryAt, now)}`,
      );
      ctx.print(entry.reason);
      if (entry.reservationId) ctx.print(`reservation ${entry.reservationId}`);
    }
    return;
  }
  const body = await call<{ accounts: { account: string; waiting: QueueEntry[] }[] }>(t, 'GET', '/v1/queue');
  if (ctx.json) {
    ctx.printJson(body);
    return;
  }
  const entries = body.accounts.flatMap((a) => a.waiting);
  if (entries.length === 0) {
    ctx.print('the queue is empty');
    return;
  }
  ctx.print(
    table(
      ['ID', 'TASK', 'ACCOUNT', 'MODEL', 'PRIORITY', 'RETRY', 'WAITING', 'REASON'],
      entries.map((e) => [
        e.id,
        e.taskId,
        e.account ?? '-',
        e.model ?? '-',
        String(e.priority ?? '-'),
        when(e.retryAt, now),
        when(e.createdAt, now).replace(' ago', ''),
        e.reason,
      ]),
    ),
  );
};
