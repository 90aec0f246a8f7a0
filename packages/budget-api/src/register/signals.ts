import {
  applyResetPrecedence,
  foldSignal,
  observedAfter,
  type Account,
  type Confidence,
  type HeldReading,
  type UsageSignal,
} from '@mosaic/budget-core';
import type { DateTime } from 'luxon';
import type { FleetDb } from '../db/database.js';
import { sql } from 'kysely';
import { headColumns, readHead, windowKey, type HeadRow } from '../gate/snapshot.js';
import { isRetryableTxError, isUniqueViolation } from '../gate/retry.js';
import { BudgetApiError, type ProblemIssue } from '../errors.js';
import type { ConfigCache } from './config-cache.js';
import { pgArray } from './pg-array.js';
import { instant, iso } from './wire.js';

/** What happened to each signal of a batch. */
export interface SignalOutcome {
  account: string;
  window: string;
  /** `applied`: it is now the newest; `stale`: an equal or newer signal was already held, or this reading was already received (usage kept). */
  usage: 'applied' | 'stale';
  /** Which reset was kept and by which precedence rule (absent when the signal carried no reset). */
  reset?: { kept: 'held' | 'incoming'; rule: string };
  /**
   * Present when `observedAt` was later than the register's (database) clock: the window state took
   * the signal as observed at `clampedTo`, the database's now; the audit row keeps `sent`.
   */
  clamped?: { sent: string; clampedTo: string };
}

/** Most signals one `POST /v1/usage-signals` may carry. */
export const MAX_SIGNAL_BATCH = 10_000;

/** Checks that every signal names a known account and one of its windows (all-or-nothing). */
export function checkSignals(signals: UsageSignal[], accounts: Map<string, Account>): void {
  const issues: ProblemIssue[] = [];
  for (const [i, s] of signals.entries()) {
    const account = accounts.get(s.account);
    if (!account) {
      issues.push({ path: ['signals', i, 'account'], message: `unknown account "${s.account}"` });
    } else if (!account.windows.some((w) => w.name === s.window)) {
      issues.push({
        path: ['signals', i, 'window'],
        message: `account "${s.account}" has no window "${s.window}" (it has: ${account.windows.map((w) => w.name).join(', ') || 'none'})`,
      });
    }
  }
  if (issues.length > 0) {
    throw new BudgetApiError(
      'BUDGET_ERR_UNKNOWN_ACCOUNT',
      `${issues.length} signal(s) rejected, nothing was written: ${issues[0]?.message ?? ''}`,
      {
        issues: issues.slice(0, 100),
      },
    );
  }
}

/** Whether the audit trail already holds this reading as sent: same window, instant and used %. */
async function sentBefore(trx: FleetDb, tenantId: string, s: UsageSignal): Promise<boolean> {
  const row = await trx
    .selectFrom('fleet.usage_signals')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('account_id', '=', s.account)
    .where('window_name', '=', s.window)
    .where('observed_at', '=', iso(s.observedAt))
    .where('used_percent', '=', s.usedPercent.toString())
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** A window's row as the batch holds it while folding its signals in, oldest first. */
interface FoldedWindow {
  account: string;
  window: string;
  /** The row exists in `window_state` (it was there when locked): update it, else insert it. */
  existed: boolean;
  /** Its reading, by the core's rules (absent until the row existed or a signal of the batch made it). */
  reading: HeldReading | undefined;
  /** The used % of the newest reading (for a row that existed, used only when `newer`). */
  usedPercent: string;
  /** A signal of the batch was newer than the row's reading: used %, observation and unsignaled spend restart. */
  newer: boolean;
  /** Something of the row changes; an unchanged row is not written. */
  changed: boolean;
}

/** A held window row, locked, as the batch's first statement reads it (timestamps as JSON text). */
interface LockedRow {
  account_id: string;
  window_name: string;
  used_percent: string;
  observed_at: string;
  reset_at: string | null;
  reset_confidence: string;
}

/**
 * Reads, in one statement, what folding a batch needs and locks what it will write: the database's
 * clock, the tenant's configuration version (the accounts come from the replica's cache at it), whether
 * the caller's token is still live (when `tokenId` is given, as the gate does) and the batch's window
 * rows, locked in the same order as the gate's reservations lock them so the two never deadlock.
 */
async function lockWindows(
  trx: FleetDb,
  tenantId: string,
  keys: { account: string; window: string }[],
  tokenId: string | undefined,
): Promise<{ now: DateTime; version: number; rows: LockedRow[] }> {
  const result = await sql<HeadRow & { held: LockedRow[] }>`
    select ${headColumns(tenantId, tokenId)},
      (select coalesce(json_agg(x), '[]') from (
         select ws.account_id, ws.window_name, ws.used_percent::text as used_percent, ws.observed_at,
                ws.reset_at, ws.reset_confidence
           from fleet.window_state ws
           join unnest(${pgArray(keys.map((k) => k.account))}::text[],
                       ${pgArray(keys.map((k) => k.window))}::text[]) as k(account_id, window_name)
             using (account_id, window_name)
          where ws.tenant_id = ${tenantId}
          order by ws.account_id, ws.window_name
          for update of ws) x) as held
  `.execute(trx);
  const row = result.rows[0];
  if (!row) throw new Error('the signal batch query returned no row');
  return { ...readHead(row, tokenId), rows: row.held };
}

/**
 * Writes a folded batch in one statement: every signal to the audit trail (in the order folded), and
 * each window that changed — an update of a row that existed, an insert of one that did not.
 */
async function writeBatch(
  trx: FleetDb,
  tenantId: string,
  audit: UsageSignal[],
  windows: FoldedWindow[],
): Promise<void> {
  const col = <T>(rows: T[], pick: (r: T) => string | null) => pgArray(rows.map(pick));
  const bool = (rows: FoldedWindow[], pick: (r: FoldedWindow) => boolean) =>
    `{${rows.map((r) => (pick(r) ? 't' : 'f')).join(',')}}`;
  const w = windows.filter((x) => x.changed);
  await sql`
    with audit as (
      insert into fleet.usage_signals
        (tenant_id, account_id, window_name, used_percent, reset_at, confidence, observed_at, source)
      select ${tenantId}, a.account_id, a.window_name, a.used_percent, a.reset_at, a.confidence,
             a.observed_at, a.source
        from unnest(${col(audit, (s) => s.account)}::text[], ${col(audit, (s) => s.window)}::text[],
                    ${col(audit, (s) => s.usedPercent.toString())}::numeric[],
                    ${col(audit, (s) => (s.resetAt ? iso(s.resetAt) : null))}::timestamptz[],
                    ${col(audit, (s) => s.confidence)}::text[],
                    ${col(audit, (s) => iso(s.observedAt))}::timestamptz[],
                    ${col(audit, (s) => s.source ?? null)}::text[])
          with ordinality as a(account_id, window_name, used_percent, reset_at, confidence, observed_at,
                               source, ord)
       order by a.ord),
    v as (
      select * from unnest(${col(w, (x) => x.account)}::text[], ${col(w, (x) => x.window)}::text[],
                           ${col(w, (x) => x.usedPercent)}::numeric[],
                           ${col(w, (x) => (x.reading ? iso(x.reading.observedAt) : null))}::timestamptz[],
                           ${col(w, (x) => (x.reading?.resetAt ? iso(x.reading.resetAt) : null))}::timestamptz[],
                           ${col(w, (x) => x.reading?.confidence ?? 'unknown')}::text[],
                           ${bool(w, (x) => x.newer)}::boolean[], ${bool(w, (x) => x.existed)}::boolean[])
        as v(account_id, window_name, used_percent, observed_at, reset_at, reset_confidence, newer, existed)),
    updated as (
      update fleet.window_state ws
         set reset_at = v.reset_at, reset_confidence = v.reset_confidence,
             -- A newer observation already includes spend up to its instant: unsignaled spend restarts at zero.
             used_percent = case when v.newer then v.used_percent else ws.used_percent end,
             observed_at = case when v.newer then v.observed_at else ws.observed_at end,
             unsignaled_usd = case when v.newer then 0 else ws.unsignaled_usd end
        from v
       where v.existed and ws.tenant_id = ${tenantId} and ws.account_id = v.account_id
         and ws.window_name = v.window_name)
    insert into fleet.window_state
      (tenant_id, account_id, window_name, used_percent, observed_at, reset_at, reset_confidence)
    select ${tenantId}, v.account_id, v.window_name, v.used_percent, v.observed_at, v.reset_at,
           v.reset_confidence
      from v where not v.existed
  `.execute(trx);
}

/** Most attempts at a batch that lost a race: a new window row inserted first, or a deadlock. */
const RACE_ATTEMPTS = 3;

/**
 * Records usage signals (all kept in `usage_signals` for the audit trail) and folds each into its
 * window's current state: a signal older than the held one does not overwrite the used %, and the
 * reset is merged by the core's precedence rule. Time is the database's clock: a signal observed
 * after it is folded in as observed now (see {@link SignalOutcome.clamped}).
 *
 * A batch costs one transaction of two statements whatever its size (a status line sends two signals
 * per prompt): one that locks the batch's windows and reads the clock, the configuration version and
 * the token, and one that writes the audit rows and the changed windows. The signals are folded in
 * between, oldest first, exactly as one request per signal would fold them.
 */
export async function ingestSignals(
  db: FleetDb,
  configs: ConfigCache,
  tenantId: string,
  signals: UsageSignal[],
  tokenId?: string,
): Promise<SignalOutcome[]> {
  // Oldest first, so a batch replayed out of order ends in the same state as one sent in order.
  const ordered = [...signals].sort((a, b) => a.observedAt.toMillis() - b.observedAt.toMillis());
  const keys = new Map<string, { account: string; window: string }>();
  for (const s of ordered) keys.set(windowKey(s.account, s.window), { account: s.account, window: s.window });
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        // The database's clock, not this replica's: replicas may disagree, and the gate, expiry and
        // pace all read the database's. It is the transaction's start, the same for the whole batch.
        const locked = await lockWindows(trx, tenantId, [...keys.values()], tokenId);
        const config = await configs.at(tenantId, locked.version, trx);
        checkSignals(signals, config.accountsById);
        const outcomes = await fold(trx, tenantId, ordered, locked.rows, locked.now);
        await writeBatch(trx, tenantId, ordered, outcomes.windows);
        return outcomes.outcomes;
      });
    } catch (error) {
      // Two batches that both found a window without a row both insert it; the later one runs again
      // and finds the row, locked, this time. A deadlock with a writer that locks windows in another
      // order rolls the whole batch back, so it too can simply run again.
      const raced = isUniqueViolation(error) || isRetryableTxError(error);
      if (raced && attempt < RACE_ATTEMPTS) continue;
      throw error;
    }
  }
}

/**
 * Folds a batch's signals, oldest first, into its windows' rows with the core's {@link foldSignal},
 * keeping what the write needs: which rows existed, which changed, and the newest used %.
 */
async function fold(
  trx: FleetDb,
  tenantId: string,
  ordered: UsageSignal[],
  rows: LockedRow[],
  now: DateTime,
): Promise<{ outcomes: SignalOutcome[]; windows: FoldedWindow[] }> {
  const windows = new Map<string, FoldedWindow>();
  for (const r of rows) {
    windows.set(windowKey(r.account_id, r.window_name), {
      account: r.account_id,
      window: r.window_name,
      existed: true,
      reading: {
        observedAt: instant(r.observed_at),
        ...(r.reset_at ? { resetAt: instant(r.reset_at) } : {}),
        confidence: r.reset_confidence as Confidence,
      },
      usedPercent: r.used_percent,
      newer: false,
      changed: false,
    });
  }
  // What this batch sent so far, so a reading repeated within one batch is recognised as the audit
  // trail would recognise it across batches.
  const sent = new Set<string>();
  const outcomes: SignalOutcome[] = [];
  for (const s of ordered) {
    const key = windowKey(s.account, s.window);
    const w: FoldedWindow = windows.get(key) ?? {
      account: s.account,
      window: s.window,
      existed: false,
      reading: undefined,
      usedPercent: s.usedPercent.toString(),
      newer: false,
      changed: true,
    };
    windows.set(key, w);
    const reading = `${key}\u0000${s.observedAt.toMillis()}\u0000${s.usedPercent.toString()}`;
    // Only a reading from after the register's clock needs the audit trail (see foldSignal).
    const repeated = observedAfter(s, now) && (sent.has(reading) || (await sentBefore(trx, tenantId, s)));
    sent.add(reading);
    const f = foldSignal(w.reading, s, now, repeated);
    if (f.newer || !w.reading) {
      w.usedPercent = s.usedPercent.toString();
      w.newer ||= f.newer && w.existed;
      w.changed = true;
    }
    if (
      f.held.resetAt?.toMillis() !== w.reading?.resetAt?.toMillis() ||
      f.held.confidence !== w.reading?.confidence
    ) {
      w.changed = true;
    }
    w.reading = f.held;
    outcomes.push({
      account: s.account,
      window: s.window,
      usage: f.newer ? 'applied' : 'stale',
      ...(f.reset ? { reset: f.reset } : {}),
      ...(f.clampedTo ? { clamped: { sent: iso(s.observedAt), clampedTo: iso(f.clampedTo) } } : {}),
    });
  }
  return { outcomes, windows: [...windows.values()] };
}

/**
 * Sets a window's reset by hand (`mosaic budget set --reset-at`), merged by the same precedence rule;
 * keeps the held usage.
 */
export async function setReset(
  db: FleetDb,
  tenantId: string,
  account: Account,
  window: string,
  resetAt: DateTime,
  confidence: Confidence,
  now: DateTime,
): Promise<{ resetAt: string; confidence: Confidence; kept: 'held' | 'incoming'; rule: string }> {
  if (!account.windows.some((w) => w.name === window)) {
    throw new BudgetApiError('BUDGET_ERR_VALIDATION', `account "${account.id}" has no window "${window}"`, {
      issues: [{ path: ['window'], message: `no window "${window}"` }],
    });
  }
  return db.transaction().execute(async (trx) => {
    const held = await trx
      .selectFrom('fleet.window_state')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('account_id', '=', account.id)
      .where('window_name', '=', window)
      .forUpdate()
      .executeTakeFirst();
    const result = applyResetPrecedence(
      held?.reset_at
        ? { resetAt: instant(held.reset_at), confidence: held.reset_confidence as Confidence }
        : undefined,
      { resetAt, confidence },
      now,
    );
    if (held) {
      await trx
        .updateTable('fleet.window_state')
        .set({ reset_at: iso(result.resetAt), reset_confidence: result.confidence })
        .where('tenant_id', '=', tenantId)
        .where('account_id', '=', account.id)
        .where('window_name', '=', window)
        .execute();
    } else {
      // No signal yet: hold the reset with 0% used observed now, so pacing can start from it.
      await trx
        .insertInto('fleet.window_state')
        .values({
          tenant_id: tenantId,
          account_id: account.id,
          window_name: window,
          used_percent: '0',
          observed_at: iso(now),
          reset_at: iso(result.resetAt),
          reset_confidence: result.confidence,
        })
        .execute();
    }
    return {
      resetAt: iso(result.resetAt),
      confidence: result.confidence,
      kept: result.kept,
      rule: result.rule,
    };
  });
}
