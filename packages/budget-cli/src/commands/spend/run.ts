import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DateTime } from 'luxon';
import {
  idSchema,
  labelSchema,
  priceOf,
  modelSchema,
  timezoneSchema,
  tokenCountSchema,
  usdSchema,
  type SpendKind,
} from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { UsageError } from '../../errors.js';
import { parseFlags } from '../../flags.js';
import { call } from '../../transport/call.js';
import { livePriceTable } from '../../pricing.js';
import { localZone, whenFlag } from '../../when.js';

const tokens = z.coerce.number().pipe(tokenCountSchema);
const flagsSchema = z.object({
  account: idSchema,
  model: modelSchema,
  task: labelSchema,
  mission: labelSchema.optional(),
  taskClass: idSchema,
  inputTokens: tokens,
  outputTokens: tokens,
  cacheReadTokens: tokens,
  cacheWriteTokens: tokens,
  usd: usdSchema.optional(),
  at: z.string().min(1).optional(),
  idempotencyKey: z.string().min(1).max(256).optional(),
  agent: labelSchema,
  host: labelSchema.optional(),
  timezone: timezoneSchema.optional(),
});

function spendRunner(kind: SpendKind): Runner {
  return async (ctx, raw) => {
    const f = parseFlags(flagsSchema, raw);
    const occurredAt =
      f.at !== undefined ? whenFlag('--at', f.at, f.timezone ?? localZone()) : DateTime.utc();
    const t = await ctx.transport();
    const { accounts } = await call<{ accounts: { id: string; provider: string }[] }>(
      t,
      'GET',
      '/v1/accounts',
    );
    const account = accounts.find((a) => a.id === f.account);
    if (!account) {
      throw new UsageError(
        `there is no account "${f.account}"`,
        'create it with `mosaic budget set` or check the name',
      );
    }
    const usage = {
      inputTokens: f.inputTokens,
      outputTokens: f.outputTokens,
      cacheReadTokens: f.cacheReadTokens,
      cacheWriteTokens: f.cacheWriteTokens,
    };
    const usd = f.usd ?? priceOf(await livePriceTable(t), f.model, usage);
    if (!usd)
      throw new UsageError(
        `no price for model "${f.model}"`,
        'pass --usd, or add the model under `prices` in the policy',
      );
    const record = {
      host: f.host ?? ctx.host,
      agent: f.agent,
      ...(f.mission ? { mission: f.mission } : {}),
      task: f.task,
      taskClass: f.taskClass,
      provider: account.provider,
      account: f.account,
      model: f.model,
      ...usage,
      usd: usd.toString(),
      kind,
      occurredAt: occurredAt.toUTC().toISO() ?? '',
      idempotencyKey: '',
    };
    // Without a key, the content itself is the key: running the same command twice records it once.
    record.idempotencyKey =
      f.idempotencyKey ??
      `cli:${createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 32)}`;
    const res = await call<{ inserted: number; duplicates: number | string[] }>(t, 'POST', '/v1/spend', {
      records: [record],
    });
    if (ctx.json) {
      ctx.printJson({ record, ...res });
      return;
    }
    ctx.print(
      `${res.inserted ? 'recorded' : 'already recorded'} ${kind} spend: ${f.task} on ${f.account}/${f.model} $${record.usd} (key ${record.idempotencyKey})`,
    );
  };
}

/** `spend record`: actual spend. */
export const runRecord: Runner = spendRunner('actual');
/** `spend project`: projected spend. */
export const runProject: Runner = spendRunner('projected');
