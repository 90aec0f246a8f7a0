import { z } from 'zod';
import { labelSchema, timezoneSchema } from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { parseFlags } from '../../flags.js';
import { CliError, EXIT } from '../../errors.js';
import { call, query } from '../../transport/call.js';
import { localZone } from '../../when.js';
import { stepInWords, type WireTraceStep } from './words.js';

interface DecisionRecord {
  taskId: string;
  decision: string;
  account?: string;
  model?: string;
  reason: string;
  retryAt?: string;
  createdAt?: string;
  trace?: WireTraceStep[];
}

/** Fetches the task's latest decision and prints it as a sentence followed by the trace in words. */
export const run: Runner = async (ctx, raw, args) => {
  const f = parseFlags(z.object({ timezone: timezoneSchema.optional() }), raw);
  const taskId = parseFlags(labelSchema, args[0], 'mosaic budget explain <taskId>');
  const zone = f.timezone ?? localZone();
  const t = await ctx.transport();
  // The task's decisions come newest first, each with its trace.
  const { decisions } = await call<{ decisions: DecisionRecord[] }>(
    t,
    'GET',
    `/v1/decisions${query({ task: taskId, limit: 1 })}`,
  );
  const d = decisions[0];
  if (!d) {
    throw new CliError('BUDGET_ERR_NOT_FOUND', `no gate decision for task "${taskId}"`, {
      exit: EXIT.rejected,
      hint: 'check the task id given to `mosaic budget gate --task`',
    });
  }
  if (ctx.json) {
    ctx.printJson(d);
    return;
  }
  const failing = (d.trace ?? []).filter((s) => s.outcome === 'fail').map((s) => stepInWords(s, zone));
  const head = `${d.decision}${d.account ? ` on ${d.account}/${d.model ?? ''}` : ''}`;
  ctx.print(`${head}: ${failing.length ? failing.join('; ') : d.reason}`);
  if (failing.length) ctx.print(`reason: ${d.reason}`);
  for (const s of d.trace ?? [])
    ctx.print(`  ${s.outcome === 'fail' ? '✗' : s.outcome === 'pass' ? '✓' : '·'} ${stepInWords(s, zone)}`);
};
