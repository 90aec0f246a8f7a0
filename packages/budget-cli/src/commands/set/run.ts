import { z } from 'zod';
import {
  accountKindSchema,
  accountSchema,
  ceilingPeriodSchema,
  confidenceSchema,
  durationSchema,
  idSchema,
  modelSchema,
  positiveDecimalSchema,
  timezoneSchema,
  type AccountInput,
} from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { UsageError } from '../../errors.js';
import { parseFlags } from '../../flags.js';
import { call } from '../../transport/call.js';
import { showInstant, whenFlag } from '../../when.js';

const flagsSchema = z.object({
  account: idSchema,
  provider: idSchema.optional(),
  kind: accountKindSchema.optional(),
  models: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    )
    .pipe(z.array(modelSchema).min(1))
    .optional(),
  timezone: timezoneSchema.optional(),
  window: idSchema,
  windowLength: z.string().pipe(durationSchema).optional(),
  rolling: z.boolean().optional(),
  resetAt: z.string().min(1).optional(),
  confidence: confidenceSchema,
  ceilingUsd: positiveDecimalSchema.optional(),
  period: ceilingPeriodSchema.optional(),
  concurrency: z.coerce.number().int().positive().optional(),
});

// Conventional lengths for the windows the providers' plans have, used when a window is first named.
const DEFAULT_LENGTH: Record<string, { length: string; rolling: boolean }> = {
  weekly: { length: 'P7D', rolling: false },
  session: { length: 'PT5H', rolling: true },
};

interface AccountsBody {
  accounts: AccountInput[];
}

/** Creates or updates the account, then sets the reset when asked; echoes what it resolved. */
export const run: Runner = async (ctx, raw) => {
  const f = parseFlags(flagsSchema, raw);
  const t = await ctx.transport();
  const { accounts } = await call<AccountsBody>(t, 'GET', '/v1/accounts');
  const existing = accounts.find((a) => a.id === f.account);
  if (!existing && (!f.provider || !f.kind || !f.models)) {
    throw new UsageError(
      `there is no account "${f.account}" yet, and creating one needs --provider, --kind and --models`,
      `mosaic budget set --account ${f.account} --provider anthropic --kind subscription --models claude-sonnet-4-5`,
    );
  }
  const next: AccountInput = existing
    ? { ...existing }
    : { id: f.account, provider: f.provider ?? '', kind: f.kind ?? 'subscription', models: f.models ?? [] };
  if (f.provider) next.provider = f.provider;
  if (f.kind) next.kind = f.kind;
  if (f.models) next.models = f.models;
  if (f.timezone) next.timezone = f.timezone;
  if (f.concurrency !== undefined) next.concurrency = f.concurrency;
  if (f.ceilingUsd)
    next.ceiling = { usd: f.ceilingUsd.toString(), period: f.period ?? existing?.ceiling?.period ?? 'P1M' };
  else if (f.period) {
    if (!next.ceiling)
      throw new UsageError('--period changes a ceiling, and this account has none', 'add --ceiling-usd N');
    next.ceiling = { ...next.ceiling, period: f.period };
  }

  const windows = [...(next.windows ?? [])];
  const idx = windows.findIndex((w) => w.name === f.window);
  const wantWindow =
    f.windowLength !== undefined || f.rolling !== undefined || (f.resetAt !== undefined && idx < 0);
  if (wantWindow) {
    const base = DEFAULT_LENGTH[f.window];
    const length = (raw.windowLength as string | undefined) ?? (idx >= 0 ? undefined : base?.length);
    if (idx < 0 && length === undefined) {
      throw new UsageError(
        `the account has no window "${f.window}"; give its length with --window-length (e.g. P7D)`,
      );
    }
    const prev = idx >= 0 ? windows[idx] : undefined;
    const w = { ...(prev ?? { name: f.window, length: length ?? 'P7D' }) };
    if (length !== undefined) w.length = length;
    w.rolling = f.rolling ?? prev?.rolling ?? base?.rolling ?? false;
    if (idx >= 0) windows[idx] = w;
    else windows.push(w);
    next.windows = windows;
  }
  // Validate with the core's schema before sending, so a mistake is reported as a flag error here.
  const checked = accountSchema.safeParse(next);
  if (!checked.success) {
    throw new UsageError(checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const zone = checked.data.timezone;
  const resetAt = f.resetAt !== undefined ? whenFlag('--reset-at', f.resetAt, zone) : undefined;

  const changed = !existing || JSON.stringify(existing) !== JSON.stringify(next);
  const put = changed
    ? await call<{ account: AccountInput; created: boolean }>(
        t,
        'PUT',
        `/v1/accounts/${encodeURIComponent(f.account)}`,
        next,
      )
    : { account: next, created: false };
  let reset: unknown;
  if (resetAt) {
    reset = await call(t, 'PUT', `/v1/accounts/${encodeURIComponent(f.account)}/reset`, {
      window: f.window,
      resetAt: resetAt.toUTC().toISO(),
      confidence: f.confidence,
    });
  }
  if (ctx.json) {
    ctx.printJson({ account: put.account, created: put.created, changed, ...(reset ? { reset } : {}) });
    return;
  }
  const c = ctx.color;
  ctx.print(
    `${put.created ? 'created' : changed ? 'updated' : 'unchanged'} account ${c.bold(f.account)} (${next.provider}, ${next.kind}, ${zone})`,
  );
  if (resetAt) {
    ctx.print(`reset of ${f.window}: ${showInstant(resetAt, zone)} [${f.confidence}]`);
    const held = reset as { kept?: string; rule?: string; resetAt?: string; confidence?: string } | undefined;
    if (held?.kept === 'held') {
      ctx.print(
        c.yellow(
          `kept the held reset ${held.resetAt ?? ''} [${held.confidence ?? ''}] (${held.rule ?? 'precedence'})`,
        ),
      );
    }
  }
};
