import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { z } from 'zod';
import { DateTime } from 'luxon';
import { decimalSchema, idSchema, labelSchema, timezoneSchema, usdSchema } from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { UsageError } from '../../errors.js';
import { parseFlags } from '../../flags.js';
import { call } from '../../transport/call.js';
import { table } from '../../output/table.js';
import { localZone, relative, showInstant, whenFlag } from '../../when.js';

const flagsSchema = z.object({
  account: idSchema.optional(),
  provider: idSchema.optional(),
  taskClass: idSchema.optional(),
  mission: labelSchema.optional(),
  rapid: decimalSchema.refine((d) => d.gt(1) && d.lte(1000), 'must be > 1 and ≤ 1000').optional(),
  overspendUsd: usdSchema.optional(),
  urgencyBypass: z.boolean().optional(),
  until: z.string().min(1),
  from: z.string().min(1).optional(),
  reason: z.string().min(1).max(2000),
  id: z.string().min(1).max(128).optional(),
  by: z.string().min(1).max(256).optional(),
  timezone: timezoneSchema.optional(),
});

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}

/** Records an authorization after checking exactly one kind was asked for. */
export const runAuthorize: Runner = async (ctx, raw) => {
  const f = parseFlags(flagsSchema, raw);
  const kinds = [
    f.rapid && 'rapid',
    f.overspendUsd && 'overspend',
    f.urgencyBypass && 'urgency-bypass',
  ].filter(Boolean);
  if (kinds.length !== 1) {
    throw new UsageError('give exactly one of --rapid X, --overspend-usd N, --urgency-bypass');
  }
  const zone = f.timezone ?? localZone();
  const now = DateTime.utc();
  const from = f.from !== undefined ? whenFlag('--from', f.from, zone, now) : now;
  const until = whenFlag('--until', f.until, zone, now);
  if (until <= from) throw new UsageError('--until must be after --from (or after now)');
  const body = {
    id: f.id ?? `auth-${randomUUID()}`,
    scope: {
      ...(f.account ? { account: f.account } : {}),
      ...(f.provider ? { provider: f.provider } : {}),
      ...(f.taskClass ? { taskClass: f.taskClass } : {}),
      ...(f.mission ? { mission: f.mission } : {}),
    },
    kind: kinds[0],
    ...(f.rapid ? { multiplier: f.rapid.toString() } : {}),
    ...(f.overspendUsd ? { amountUsd: f.overspendUsd.toString() } : {}),
    from: from.toUTC().toISO(),
    until: until.toUTC().toISO(),
    reason: f.reason,
    createdBy: f.by ?? who(),
  };
  const t = await ctx.transport();
  const res = await call<{ authorization: unknown }>(t, 'POST', '/v1/authorizations', body);
  if (ctx.json) {
    ctx.printJson(res);
    return;
  }
  ctx.print(`authorized ${body.id}: ${String(body.kind)} until ${showInstant(until, zone)}`);
  ctx.print(`revoke with: mosaic budget revoke ${body.id}`);
};

/** Revokes one authorization by id. */
export const runRevoke: Runner = async (ctx, _raw, args) => {
  const id = parseFlags(z.string().min(1).max(128), args[0], 'mosaic budget revoke <id>');
  const t = await ctx.transport();
  const res = await call(t, 'DELETE', `/v1/authorizations/${encodeURIComponent(id)}`);
  if (ctx.json) ctx.printJson(res);
  else ctx.print(`revoked ${id}`);
};

interface StoredAuth {
  id: string;
  kind: string;
  scope?: Record<string, string>;
  multiplier?: string;
  amountUsd?: string;
  from: string;
  until: string;
  revokedAt?: string;
  reason: string;
}

/** Lists authorizations with their state. */
export const runList: Runner = async (ctx) => {
  const t = await ctx.transport();
  const res = await call<{ authorizations: StoredAuth[] }>(t, 'GET', '/v1/authorizations');
  if (ctx.json) {
    ctx.printJson(res);
    return;
  }
  const now = DateTime.utc();
  const rows = res.authorizations.map((a) => {
    const until = DateTime.fromISO(a.until);
    const state = a.revokedAt
      ? 'revoked'
      : until < now
        ? 'expired'
        : DateTime.fromISO(a.from) > now
          ? 'future'
          : 'live';
    const scope = Object.entries(a.scope ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return [
      a.id,
      a.kind + (a.multiplier ? ` ×${a.multiplier}` : a.amountUsd ? ` $${a.amountUsd}` : ''),
      scope || '(tenant)',
      state,
      relative(until, now),
      a.reason,
    ];
  });
  ctx.print(
    rows.length ? table(['ID', 'KIND', 'SCOPE', 'STATE', 'UNTIL', 'REASON'], rows) : 'no authorizations',
  );
};
