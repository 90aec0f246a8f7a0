import { z } from 'zod';
import {
  idSchema,
  labelSchema,
  modelSchema,
  timezoneSchema,
  tokenCountSchema,
  urgencySchema,
  usdSchema,
} from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { EXIT } from '../../errors.js';
import { parseFlags } from '../../flags.js';
import { call } from '../../transport/call.js';
import { localZone, showInstant, whenFlag } from '../../when.js';
import { DateTime } from 'luxon';

const flagsSchema = z.object({
  task: labelSchema,
  class: idSchema,
  model: modelSchema,
  estimateTokens: z.coerce.number().pipe(tokenCountSchema).optional(),
  estimateUsd: usdSchema.optional(),
  account: idSchema.optional(),
  urgency: urgencySchema,
  deadline: z.string().min(1).optional(),
  mission: labelSchema.optional(),
  agent: labelSchema,
  host: labelSchema.optional(),
  timezone: timezoneSchema.optional(),
});

/** The answer of `POST /v1/gate`. */
interface GateAnswer {
  decision: 'allow' | 'downgrade' | 'reroute' | 'queue' | 'refuse';
  account?: string;
  model?: string;
  reservationId?: string;
  queueId?: string;
  retryAt?: string;
  reason: string;
  trace?: unknown[];
}

/** The exit status of each decision (docs/cli.md): scripts branch on it. */
export function gateExitStatus(decision: GateAnswer['decision']): number {
  if (decision === 'queue') return EXIT.queue;
  if (decision === 'refuse') return EXIT.refuse;
  return EXIT.ok;
}

/** Sends the dispatch request and prints the decision and its reason. */
export const run: Runner = async (ctx, raw) => {
  const f = parseFlags(flagsSchema, raw);
  const zone = f.timezone ?? localZone();
  const deadline = f.deadline !== undefined ? whenFlag('--deadline', f.deadline, zone) : undefined;
  const body = {
    taskId: f.task,
    taskClass: f.class,
    model: f.model,
    ...(f.account ? { account: f.account } : {}),
    ...(f.estimateTokens !== undefined || f.estimateUsd
      ? {
          estimate: {
            ...(f.estimateTokens !== undefined ? { tokens: f.estimateTokens } : {}),
            ...(f.estimateUsd ? { usd: f.estimateUsd.toString() } : {}),
          },
        }
      : {}),
    urgency: f.urgency,
    ...(deadline ? { deadline: deadline.toUTC().toISO() } : {}),
    agent: f.agent,
    host: f.host ?? ctx.host,
    ...(f.mission ? { mission: f.mission } : {}),
  };
  const t = await ctx.transport();
  const answer = await call<GateAnswer>(t, 'POST', '/v1/gate', body);
  const status = gateExitStatus(answer.decision);
  if (ctx.json) {
    ctx.printJson(answer);
    return status;
  }
  const c = ctx.color;
  const color = status === EXIT.ok ? c.green : status === EXIT.queue ? c.yellow : c.red;
  const where = answer.account ? ` on ${answer.account}/${answer.model ?? f.model}` : '';
  ctx.print(`${color(answer.decision)}${where}: ${answer.reason}`);
  if (answer.reservationId) ctx.print(`reservation ${answer.reservationId}`);
  if (answer.retryAt)
    ctx.print(`retry at ${showInstant(DateTime.fromISO(answer.retryAt, { setZone: true }), zone)}`);
  if (answer.queueId) ctx.print(`queue entry ${answer.queueId} (mosaic budget queue ${answer.queueId})`);
  return status;
};
