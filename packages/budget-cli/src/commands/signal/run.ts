import { z } from 'zod';
import { confidenceSchema, idSchema, nonNegativeDecimalSchema, timezoneSchema } from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { parseFlags } from '../../flags.js';
import { call } from '../../transport/call.js';
import type { Transport } from '../../transport/transport.js';
import { localZone, showInstant, whenFlag } from '../../when.js';
import { DateTime } from 'luxon';

const flagsSchema = z.object({
  account: idSchema,
  window: idSchema,
  used: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().replace(/%$/, '') : v),
    nonNegativeDecimalSchema.refine((d) => d.lte(1000), 'must be at most 1000%'),
  ),
  resetsAt: z.string().min(1).optional(),
  confidence: confidenceSchema,
  observedAt: z.string().min(1).optional(),
  timezone: timezoneSchema.optional(),
});

/** The account's IANA zone from the register, or undefined when it has no such account. */
async function accountZone(t: Transport, account: string): Promise<string | undefined> {
  const { accounts } = await call<{ accounts: { id: string; timezone?: string }[] }>(
    t,
    'GET',
    '/v1/accounts',
  );
  return accounts.find((a) => a.id === account)?.timezone;
}

/** Sends one signal and prints what the register did with it. */
export const run: Runner = async (ctx, raw) => {
  const f = parseFlags(flagsSchema, raw);
  const t = await ctx.transport();
  // "fri 17:00" means 17:00 where the account lives, as `set --reset-at` reads it; the operator's
  // own zone is only the fallback for an account the register does not know yet.
  const zone = f.timezone ?? (await accountZone(t, f.account)) ?? localZone();
  const now = DateTime.utc();
  const resetAt = f.resetsAt !== undefined ? whenFlag('--resets-at', f.resetsAt, zone, now) : undefined;
  const observedAt = f.observedAt !== undefined ? whenFlag('--observed-at', f.observedAt, zone, now) : now;
  const signal = {
    account: f.account,
    window: f.window,
    usedPercent: f.used.toString(),
    ...(resetAt ? { resetAt: resetAt.toUTC().toISO() } : {}),
    confidence: f.confidence,
    observedAt: observedAt.toUTC().toISO(),
    source: 'cli',
  };
  const res = await call<{ outcomes: { usage: string; reset?: { kept: string; rule: string } }[] }>(
    t,
    'POST',
    '/v1/usage-signals',
    { signals: [signal] },
  );
  if (ctx.json) {
    ctx.printJson({ signal, ...res });
    return;
  }
  const o = res.outcomes[0];
  ctx.print(`${f.account}/${f.window}: ${signal.usedPercent}% used — ${o?.usage ?? 'recorded'}`);
  if (resetAt)
    ctx.print(
      `reset ${showInstant(resetAt, zone)} [${f.confidence}]${o?.reset ? ` — kept ${o.reset.kept} (${o.reset.rule})` : ''}`,
    );
};
