import { applyResetPrecedence, type Account, type UsageSignal, type Confidence } from '@mosaic/budget-core';
import type { DateTime } from 'luxon';
import type { FleetDb } from '../db/database.js';
import { databaseNow } from '../gate/snapshot.js';
import { BudgetApiError, type ProblemIssue } from '../errors.js';
import { listAccounts } from './accounts.js';
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

/**
 * Records usage signals (all kept in `usage_signals` for the audit trail) and folds each into its
 * window's current state: a signal older than the held one does not overwrite the used %, and the
 * reset is merged by the core's precedence rule. Time is the database's clock: a signal observed
 * after it is folded in as observed now (see {@link SignalOutcome.clamped}).
 */
export async function ingestSignals(
  db: FleetDb,
  tenantId: string,
  signals: UsageSignal[],
): Promise<SignalOutcome[]> {
  const accounts = new Map((await listAccounts(db, tenantId)).map((a) => [a.id, a]));
  checkSignals(signals, accounts);
  // Oldest first, so a batch replayed out of order ends in the same state as one sent in order.
  const ordered = [...signals].sort((a, b) => a.observedAt.toMillis() - b.observedAt.toMillis());
  return db.transaction().execute(async (trx) => {
    // The database's clock, not this replica's: replicas may disagree, and the gate, expiry and
    // pace all read the database's. It is the transaction's start, the same for the whole batch.
    const now = instant(await databaseNow(trx));
    const outcomes: SignalOutcome[] = [];
    for (const s of ordered) {
      // A host whose clock runs ahead would otherwise hold the window with a reading "from the
      // future", and every true reading until that instant would look older and be dropped. The
      // window state never believes a time later than the register's; the audit row keeps what
      // was sent, and its received_at shows the clock it was clamped to.
      const clamped = s.observedAt.toMillis() > now.toMillis();
      const observedAt = clamped ? now : s.observedAt;
      // A clamped reading sent again (a retry) would look newer at every arrival and zero the
      // window's unsignaled spend each time; it is recognised by what was sent, in the audit.
      const repeated = clamped && (await sentBefore(trx, tenantId, s));
      await trx
        .insertInto('fleet.usage_signals')
        .values({
          tenant_id: tenantId,
          account_id: s.account,
          window_name: s.window,
          used_percent: s.usedPercent.toString(),
          reset_at: s.resetAt ? iso(s.resetAt) : null,
          confidence: s.confidence,
          observed_at: iso(s.observedAt),
          source: s.source ?? null,
        })
        .execute();
      const held = await trx
        .selectFrom('fleet.window_state')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('account_id', '=', s.account)
        .where('window_name', '=', s.window)
        .forUpdate()
        .executeTakeFirst();
      const heldMs = held ? instant(held.observed_at).toMillis() : Number.NaN;
      // Clamped readings of one batch share the instant `now`; the later sent one is the newer.
      const newer =
        !repeated &&
        (!held || heldMs < observedAt.toMillis() || (clamped && heldMs === observedAt.toMillis()));
      let resetAt: string | null = held?.reset_at ? iso(instant(held.reset_at)) : null;
      let resetConfidence: Confidence = (held?.reset_confidence as Confidence | undefined) ?? 'unknown';
      let reset: SignalOutcome['reset'];
      if (s.resetAt) {
        const result = applyResetPrecedence(
          held?.reset_at ? { resetAt: instant(held.reset_at), confidence: resetConfidence } : undefined,
          { resetAt: s.resetAt, confidence: s.confidence },
          now,
        );
        resetAt = iso(result.resetAt);
        resetConfidence = result.confidence;
        reset = { kept: result.kept, rule: result.rule };
      }
      if (!held) {
        await trx
          .insertInto('fleet.window_state')
          .values({
            tenant_id: tenantId,
            account_id: s.account,
            window_name: s.window,
            used_percent: s.usedPercent.toString(),
            observed_at: iso(observedAt),
            reset_at: resetAt,
            reset_confidence: resetConfidence,
          })
          .execute();
      } else {
        await trx
          .updateTable('fleet.window_state')
          .set({
            reset_at: resetAt,
            reset_confidence: resetConfidence,
            // A newer observation already includes spend up to its instant: unsignaled spend restarts at zero.
            ...(newer
              ? {
                  used_percent: s.usedPercent.toString(),
                  observed_at: iso(observedAt),
                  unsignaled_usd: '0',
                }
              : {}),
          })
          .where('tenant_id', '=', tenantId)
          .where('account_id', '=', s.account)
          .where('window_name', '=', s.window)
          .execute();
      }
      outcomes.push({
        account: s.account,
        window: s.window,
        usage: newer ? 'applied' : 'stale',
        ...(reset ? { reset } : {}),
        ...(clamped ? { clamped: { sent: iso(s.observedAt), clampedTo: iso(now) } } : {}),
      });
    }
    return outcomes;
  });
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
