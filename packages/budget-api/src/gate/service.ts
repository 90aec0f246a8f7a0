import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { sql, type Kysely } from 'kysely';
import type { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import type { FastifyBaseLogger } from 'fastify';
import {
  decide,
  dispatchRequestSchema,
  priceTable,
  priceOf,
  spendRecordSchema,
  type Account,
  type Decision,
  type DispatchRequest,
  type SpendRecord,
  type TokenUsage,
} from '@mosaic/budget-core';
import type { FleetDb } from '../db/database.js';
import type { FleetDatabase } from '../db/schema.js';
import type { ConfigCache, TenantConfig } from '../register/config-cache.js';
import { BudgetApiError } from '../errors.js';
import { Metrics } from '../metrics.js';
import { contentHash, insertLedgerRows } from '../register/spend.js';
import { instant, iso, isoOf, numeric } from '../register/wire.js';
import {
  databaseNow,
  readGateState,
  revokedToken,
  snapshotFrom,
  SnapshotPlans,
  type GateState,
} from './snapshot.js';
import { guardsFor } from './guards.js';
import {
  releaseWindows,
  releaseDeltas,
  reserve,
  reservePayload,
  settleOutcome,
  ReservationRaceLost,
  StaleConfiguration,
  TaskAlreadyHeld,
  TokenRevoked,
  type ReserveAudit,
  type ReserveChecks,
  type ReserveInput,
  type ReserveOutcome,
  type ReservePayload,
  type HeldReservation,
} from './reserve.js';
import { decisionToWire, type GateAnswer } from './wire.js';
import { isRetryableTxError, isUniqueViolation } from './retry.js';
import { reserveGroup, settleGroup, type GroupCommit, type SettlePayload } from './batcher.js';
import { GateStates, type HeldChange } from './state-cache.js';
import { FailOpenLedger } from './fail-open.js';
import { withLearntEstimate, withStep } from './learnt.js';
import { learnActual } from '../register/estimates.js';
import { isDatabaseDown } from '../db/errors.js';

// How often a reservation that lost a race is decided again before the caller is told to retry.
const MAX_ATTEMPTS = 30;
// Background period: expiry sweep, queue deadlines, admission of waiting work. A reservation must be
// freed within a second of its TTL even on a single replica, so the period stays well under a second.
const TICK_MS = 500;
// Long-poll re-read period (other replicas admit too; this replica's own admissions wake it at once).
const POLL_MS = 500;

const DEFAULT_PRIORITY: Record<string, number> = { low: 0, normal: 1, high: 2, critical: 3 };

/** The answer to a commit. */
export interface CommitAnswer {
  reservationId: string;
  status: 'committed';
  usd: string;
  late: boolean;
  ledgerKey: string;
  replayed: boolean;
}

/** A queue entry on the wire. */
export interface QueueAnswer {
  id: string;
  taskId: string;
  status: string;
  account?: string;
  model?: string;
  priority: number;
  retryAt?: string;
  deadline?: string;
  reason: string;
  reservationId?: string;
  createdAt: string;
  updatedAt: string;
}

/** The gate: decide (the core's), reserve atomically, settle, queue, expire and admit. */
export class GateService {
  /** The Prometheus metrics of this replica. */
  readonly metrics = new Metrics();
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly admitting = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly events = new EventEmitter();
  private log: FastifyBaseLogger | undefined;
  private readonly reserves: GroupCommit<ReservePayload, ReserveOutcome>;
  private readonly settles: GroupCommit<SettlePayload, SettleOutcome>;
  private readonly states = new GateStates();
  private readonly failOpen = new FailOpenLedger();
  private readonly plans = new SnapshotPlans();

  constructor(
    private readonly db: FleetDb,
    private readonly configs: ConfigCache,
  ) {
    this.events.setMaxListeners(0);
    this.reserves = reserveGroup(db);
    this.settles = settleGroup<SettleOutcome>(db);
  }

  /**
   * Asks the gate about a task; persists the outcome and returns it. Idempotent per taskId. While the
   * database is unreachable it fails closed (the caller answers 503) unless the account's policy says
   * `allow-capped`, in which case {@link FailOpenLedger} may allow within the cap.
   */
  async gate(
    tenantId: string,
    request: DispatchRequest,
    raw: unknown,
    tokenId?: string,
  ): Promise<GateAnswer> {
    try {
      return await this.gateOnline(tenantId, request, raw, tokenId);
    } catch (error) {
      if (!isDatabaseDown(error)) throw error;
      const answer = this.failOpen.decide(tenantId, this.configs.lastKnown(tenantId), request, Date.now());
      if (!answer) throw error;
      const labels = { tenant: tenantId, account: answer.account ?? '' };
      this.metrics.failOpen.inc(labels);
      this.metrics.failOpenUsd.inc(labels, Number(answer.reserve?.usd ?? 0));
      this.metrics.decisions.inc({ ...labels, decision: answer.decision });
      this.log?.warn(
        { tenant: tenantId, taskId: request.taskId, account: answer.account },
        'allowed under the fail-open cap: the register database is unreachable',
      );
      return answer;
    }
  }

  private async gateOnline(
    tenantId: string,
    request: DispatchRequest,
    raw: unknown,
    tokenId?: string,
  ): Promise<GateAnswer> {
    let mustRead = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // In steady state a decision costs one round trip: it is made on the register state this replica
      // read at most STATE_TTL_MS ago (STATE_MAX_AGE_MS while one request reads it anew), and the write
      // re-checks every limit, the configuration version, the token and the task's idempotency in its
      // own statement. Otherwise one statement reads the clock, the configuration version, the token's
      // liveness, what the task already holds and the register's state first.
      const held = mustRead ? undefined : this.states.fresh(tenantId, Date.now());
      let state: GateState;
      if (held) {
        state = held;
      } else {
        state = await readGateState(this.db, tenantId, request.taskId, tokenId);
        // Held first, also when this task turns out to be a replay: the other requests wait for it.
        this.states.remember(tenantId, state, Date.now());
        const replayed = await this.replay(tenantId, state);
        if (replayed) return replayed;
      }
      mustRead = false;
      const config = await this.configs.at(tenantId, state.version);
      const now = state.now;
      const snapshot = snapshotFrom(state, config, now, this.plans.for(config, now));
      const policy = config.policy.policy;
      const learnt = withLearntEstimate(request, state.estimator, policy);
      const decision = withStep(
        decide(learnt.request, snapshot, policy, now, priceTable(policy)),
        learnt.step,
      );
      if (held && decision.decision !== 'allow') {
        // Only an allow is trusted to a held state; anything else is decided again on a fresh read,
        // so staleness never queues, downgrades or refuses work that fits.
        mustRead = true;
        attempt--;
        continue;
      }
      try {
        const answer = await this.persist(tenantId, config, request, raw, decision, now, {
          version: state.version,
          checkTask: true,
          // A fresh read confirmed the token already; a held state did not.
          ...(held && tokenId !== undefined ? { tokenId } : {}),
        });
        this.metrics.decisions.inc({
          tenant: tenantId,
          account: answer.account ?? '',
          decision: answer.decision,
        });
        return answer;
      } catch (error) {
        if (error instanceof TokenRevoked) throw revokedToken();
        if (error instanceof ReservationRaceLost || isRetryableTxError(error)) {
          this.metrics.raceRetries.inc();
          this.states.forget(tenantId);
          // Jittered backoff: racers that all saw the same snapshot spread out instead of colliding again.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 10)));
          continue;
        }
        if (error instanceof StaleConfiguration) {
          this.states.forget(tenantId);
          continue;
        }
        // A retry of the same task holds something already (or raced this one and won): the next read
        // answers with it.
        if (error instanceof TaskAlreadyHeld || isUniqueViolation(error)) {
          mustRead = true;
          continue;
        }
        throw error;
      }
    }
    throw new BudgetApiError(
      'BUDGET_ERR_CONTENTION',
      `the reservation lost ${MAX_ATTEMPTS} races in a row; retry with the same taskId`,
    );
  }

  private async persist(
    tenantId: string,
    config: TenantConfig,
    request: DispatchRequest,
    raw: unknown,
    decision: Decision,
    now: DateTime,
    checks: ReserveChecks,
  ): Promise<GateAnswer> {
    const answer = decisionToWire(decision);
    const policy = config.policy.policy;
    if (
      decision.decision === 'allow' ||
      decision.decision === 'downgrade' ||
      decision.decision === 'reroute'
    ) {
      const account = config.accountsById.get(decision.account);
      if (!account) throw new Error(`decide chose unknown account ${decision.account}`);
      const id = randomUUID();
      answer.reservationId = id;
      // One statement, committed on its own and shared with the concurrent reservations of this
      // replica (group commit): reservation, audit row, limits and window %.
      const input = reserveInput(id, tenantId, config, account, request, decision, raw, now);
      const payload = reservePayload(input, auditOf(answer), checks);
      const { expiresAt } = settleOutcome(await this.reserves.submit(payload));
      answer.expiresAt = expiresAt;
      this.states.reserved(tenantId, {
        account: account.id,
        provider: account.provider,
        usd: payload.usd,
        holds: payload.holds,
        windows: payload.windows,
      });
      return answer;
    }
    if (decision.decision === 'queue') {
      const id = randomUUID();
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('fleet.queue_entries')
          .values({
            id,
            tenant_id: tenantId,
            task_id: request.taskId,
            request: JSON.stringify(raw),
            account_id: decision.account,
            model: decision.model,
            priority: policy.urgency.priority[request.urgency] ?? DEFAULT_PRIORITY[request.urgency] ?? 0,
            status: 'waiting',
            retry_at: iso(decision.retryAt),
            deadline: request.deadline ? iso(request.deadline) : null,
            reason: decision.reason,
          })
          .execute();
        answer.queueId = id;
        await this.audit(trx, tenantId, request.taskId, answer);
      });
      return answer;
    }
    await this.audit(this.db, tenantId, request.taskId, answer);
    return answer;
  }

  private async audit(
    db: Kysely<FleetDatabase>,
    tenantId: string,
    taskId: string,
    a: GateAnswer,
  ): Promise<void> {
    await db
      .insertInto('fleet.gate_decisions')
      .values({
        tenant_id: tenantId,
        task_id: taskId,
        decision: a.decision,
        account_id: a.account ?? null,
        model: a.model ?? null,
        reason: a.reason,
        trace: JSON.stringify(a.trace),
        reservation_id: a.reservationId ?? null,
        queue_id: a.queueId ?? null,
      })
      .execute();
  }

  /** The live (or committed) reservation or waiting queue entry a task already holds, as a replayed answer. */
  private async replay(tenantId: string, state: GateState): Promise<GateAnswer | undefined> {
    const { held, waiting } = state;
    if (held) {
      // A committed task has run: a retry that arrives after its commit (its client timed out and
      // asked again) is answered with that reservation, never given a second one.
      const last = await this.lastDecision(tenantId, { reservationId: held.id });
      return {
        decision: held.decision as GateAnswer['decision'],
        account: held.account_id,
        model: held.model,
        reservationId: held.id,
        expiresAt: isoOf(held.expires_at),
        reserve: { usd: numeric(held.usd).toString(), windows: held.windows },
        reason: last?.reason ?? 'admitted from the queue',
        trace: (last?.trace as GateAnswer['trace'] | undefined) ?? [],
        replayed: true,
      };
    }
    if (waiting) {
      const last = await this.lastDecision(tenantId, { queueId: waiting.id });
      return {
        decision: 'queue',
        ...(waiting.account_id ? { account: waiting.account_id } : {}),
        ...(waiting.model ? { model: waiting.model } : {}),
        queueId: waiting.id,
        ...(waiting.retry_at ? { retryAt: isoOf(waiting.retry_at) } : {}),
        reason: waiting.reason,
        trace: (last?.trace as GateAnswer['trace'] | undefined) ?? [],
        replayed: true,
      };
    }
    return undefined;
  }

  private async lastDecision(
    tenantId: string,
    by: { reservationId?: string; queueId?: string },
  ): Promise<{ reason: string; trace: unknown } | undefined> {
    let q = this.db
      .selectFrom('fleet.gate_decisions')
      .select(['reason', 'trace'])
      .where('tenant_id', '=', tenantId);
    if (by.reservationId) q = q.where('reservation_id', '=', by.reservationId);
    if (by.queueId) q = q.where('queue_id', '=', by.queueId);
    return q.orderBy('id', 'desc').limit(1).executeTakeFirst();
  }

  /**
   * Records the actual spend of a reservation and frees what it held. Idempotent: a second commit
   * answers like the first. After expiry the spend is still recorded and counted (the ledger must be
   * true) and marked late.
   */
  async commit(tenantId: string, id: string, actual: TokenUsage & { usd?: Decimal }): Promise<CommitAnswer> {
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await this.commitOnce(tenantId, id, actual);
        if (answer.late && !answer.replayed) this.metrics.lateCommits.inc({ tenant: tenantId });
        // Committed spend moved from reserved to committed: the next decision reads it fresh.
        if (!answer.replayed) this.states.forget(tenantId);
        if (!answer.replayed) this.capacityChanged(tenantId);
        return answer;
      } catch (error) {
        if (attempt < MAX_ATTEMPTS && isRetryableTxError(error)) continue;
        throw error;
      }
    }
  }

  private async commitOnce(
    tenantId: string,
    id: string,
    actual: TokenUsage & { usd?: Decimal },
  ): Promise<CommitAnswer> {
    const config = await this.configs.get(tenantId);
    // Counted once the transaction has committed, so a rolled-back attempt is never counted.
    let written: SpendRecord[] = [];
    const answer = await this.db.transaction().execute(async (trx): Promise<CommitAnswer> => {
      const r = await trx
        .selectFrom('fleet.reservations')
        .selectAll()
        .select(sql<boolean>`expires_at <= now()`.as('past'))
        .select(sql<Date>`now()`.as('db_now'))
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!r) throw new BudgetApiError('BUDGET_ERR_NOT_FOUND', `no reservation "${id}"`);
      const ledgerKey = `reservation:${id}`;
      if (r.status === 'committed') {
        return {
          reservationId: id,
          status: 'committed',
          usd: numeric(r.committed_usd).toString(),
          late: r.late,
          ledgerKey,
          replayed: true,
        };
      }
      if (r.status === 'released') {
        throw new BudgetApiError(
          'BUDGET_ERR_RESERVATION_STATE',
          `reservation "${id}" was released; its spend cannot be committed — record it with POST /v1/spend`,
        );
      }
      const usd = actual.usd ?? priceOf(priceTable(config.policy.policy), r.model, actual);
      if (!usd) {
        throw new BudgetApiError(
          'BUDGET_ERR_NO_PRICE',
          `no price is known for model "${r.model}"; send actual.usd or add the model to the policy's prices`,
        );
      }
      const wasLive = r.status === 'live';
      const late = !wasLive || r.past;
      const req = dispatchRequestSchema.parse(r.request);
      const record = spendRecordSchema.parse({
        host: req.host,
        agent: req.agent,
        ...(req.mission ? { mission: req.mission } : {}),
        task: req.taskId,
        taskClass: req.taskClass,
        provider: r.provider,
        account: r.account_id,
        model: r.model,
        inputTokens: actual.inputTokens,
        outputTokens: actual.outputTokens,
        cacheReadTokens: actual.cacheReadTokens,
        cacheWriteTokens: actual.cacheWriteTokens,
        usd: usd.toString(),
        kind: 'actual',
        occurredAt: iso(instant(r.db_now)),
        idempotencyKey: ledgerKey,
      });
      // Settle the reservation row first: it is locked already, and the hot totals rows come last.
      await trx
        .updateTable('fleet.reservations')
        .set({ status: 'committed', committed_usd: usd.toString(), late, settled_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute();
      const held = r as unknown as HeldReservation;
      const result = await insertLedgerRows(
        trx,
        tenantId,
        [{ record, hash: contentHash(record) }],
        config.accountsById,
        {
          reservationId: id,
          late,
          totals: wasLive ? releaseDeltas(held) : [],
          ...(wasLive ? { afterTotals: (t: Kysely<FleetDatabase>) => releaseWindows(t, held) } : {}),
        },
      );
      written = result.written;
      // History corrects the estimates: the task's actual size is learnt for its class and model,
      // scored against the estimate its orchestrator gave.
      await learnActual(trx, tenantId, config.policy.policy, {
        taskClass: req.taskClass,
        model: r.model,
        tokens: actual.inputTokens + actual.outputTokens + actual.cacheReadTokens + actual.cacheWriteTokens,
        ...(req.estimate?.tokens !== undefined ? { estimatedTokens: req.estimate.tokens } : {}),
      });
      return {
        reservationId: id,
        status: 'committed',
        usd: usd.toString(),
        late,
        ledgerKey,
        replayed: false,
      };
    });
    this.metrics.recordSpend(tenantId, written);
    return answer;
  }

  /** Frees everything a reservation holds (the task did not run). Idempotent. */
  async release(
    tenantId: string,
    id: string,
    tokenId?: string,
  ): Promise<{ reservationId: string; status: string }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const settled = await this.settle(tenantId, id, 'released', tokenId);
        if (settled.settled) this.states.released(tenantId, settled);
        if (settled.waiting) this.capacityChanged(tenantId);
        return { reservationId: id, status: settled.status };
      } catch (error) {
        if (attempt < MAX_ATTEMPTS && isRetryableTxError(error)) continue;
        throw error;
      }
    }
  }

  /**
   * Releases or expires one reservation in one statement (`fleet.reservation_settle`, migrations 0004, 0008).
   * `waiting` says whether the tenant has queued work that the freed room may admit.
   */
  private async settle(
    tenantId: string | undefined,
    id: string,
    to: 'released' | 'expired',
    tokenId?: string,
  ): Promise<SettleAnswer> {
    // One statement shared with this replica's concurrent releases (group commit); the token's row is
    // re-read in it (the auth hook may have taken it from this replica's cache).
    const answer = await this.settles.submit({
      tenant: tenantId ?? null,
      id,
      to,
      ...(tokenId !== undefined ? { tokenId } : {}),
    });
    if (answer.ok) return answer;
    if (answer.code === 'MB401') throw revokedToken();
    if (answer.code === 'MB404') throw new BudgetApiError('BUDGET_ERR_NOT_FOUND', `no reservation "${id}"`);
    if (answer.code === 'MB409') {
      throw new BudgetApiError('BUDGET_ERR_RESERVATION_STATE', `reservation "${id}" is already committed`);
    }
    throw new Error(`fleet.reservation_settle_batch answered ${answer.code}: ${answer.message}`);
  }

  /** Expires reservations past their TTL (database clock) and queue entries past their deadline. */
  async sweep(): Promise<Set<string>> {
    const touched = new Set<string>();
    for (let i = 0; i < 500; i++) {
      // One reservation per statement, skipping rows another replica is settling right now.
      const next = await sql<{ s: SettleOutcome }>`
        select fleet.reservation_settle(null, x.id, 'expired') as s
          from (select id from fleet.reservations
                 where status = 'live' and expires_at <= now()
                 order by expires_at limit 1
                 for update skip locked) x
      `.execute(this.db);
      const settled = next.rows[0]?.s;
      if (!settled) break;
      // Another replica settled it first (or it was committed meanwhile): nothing was freed here.
      if (!settled.ok || !settled.settled) continue;
      this.states.released(settled.tenant, settled);
      this.metrics.expired.inc({ tenant: settled.tenant });
      touched.add(settled.tenant);
    }
    const expiredQueue = await this.db
      .updateTable('fleet.queue_entries')
      .set({ status: 'expired', updated_at: sql<Date>`now()`, reason: 'the deadline passed while waiting' })
      .where('status', '=', 'waiting')
      .where(sql<boolean>`deadline <= now()`)
      .returning(['id', 'tenant_id'])
      .execute();
    for (const e of expiredQueue) {
      touched.add(e.tenant_id);
      this.events.emit(e.id);
    }
    return touched;
  }

  /** Re-evaluates a tenant's waiting queue, highest priority then oldest first. */
  async admit(tenantId: string): Promise<void> {
    const waiting = await this.db
      .selectFrom('fleet.queue_entries')
      .select(['id', 'account_id'])
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'waiting')
      .orderBy('priority', 'desc')
      .orderBy('created_at')
      .limit(100)
      .execute();
    if (waiting.length === 0) return;
    const config = await this.configs.get(tenantId);
    // Head of line per account: once the first waiting entry for an account still does not fit, the
    // ones behind it (lower urgency or younger) wait too, so order is kept and a run costs one
    // decision per account rather than one per entry.
    const blocked = new Set<string>();
    for (const { id, account_id: account } of waiting) {
      if (this.closing) return;
      if (account !== null && blocked.has(account)) continue;
      let changed = false;
      try {
        changed = await this.admitOne(tenantId, config, id);
      } catch (error) {
        const retryable =
          error instanceof ReservationRaceLost || isRetryableTxError(error) || isUniqueViolation(error);
        if (!retryable) throw error;
      }
      if (changed) {
        // An admission reserved outside the held state: the next decision reads the register fresh.
        this.states.forget(tenantId);
        this.events.emit(id);
      } else if (account !== null) blocked.add(account);
    }
  }

  private async admitOne(tenantId: string, config: TenantConfig, id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const entry = await trx
        .selectFrom('fleet.queue_entries')
        .selectAll()
        .where('id', '=', id)
        .where('status', '=', 'waiting')
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!entry) return false;
      const request = dispatchRequestSchema.parse(entry.request);
      const state = await readGateState(trx, tenantId);
      const now = state.now;
      const snapshot = snapshotFrom(state, config, now, this.plans.for(config, now));
      const policy = config.policy.policy;
      const learnt = withLearntEstimate(request, state.estimator, policy);
      const decision = withStep(
        decide(learnt.request, snapshot, policy, now, priceTable(policy)),
        learnt.step,
      );
      const answer = decisionToWire(decision);
      if (decision.decision === 'queue') {
        await trx
          .updateTable('fleet.queue_entries')
          .set({
            retry_at: iso(decision.retryAt),
            reason: decision.reason,
            account_id: decision.account,
            model: decision.model,
          })
          .where('id', '=', id)
          .execute();
        return false;
      }
      if (decision.decision === 'refuse') {
        await trx
          .updateTable('fleet.queue_entries')
          .set({ status: 'refused', reason: decision.reason, updated_at: sql<Date>`now()` })
          .where('id', '=', id)
          .execute();
        this.metrics.queueWait.observe(
          { tenant: tenantId, account: entry.account_id ?? '', outcome: 'refused' },
          Math.max(0, now.toMillis() - instant(entry.created_at).toMillis()) / 1000,
        );
        await this.audit(trx, tenantId, request.taskId, { ...answer, queueId: id });
        return true;
      }
      const account = config.accountsById.get(decision.account);
      if (!account) return false;
      const reservationId = randomUUID();
      await reserve(
        trx,
        reserveInput(reservationId, tenantId, config, account, request, decision, entry.request, now),
      );
      await trx
        .updateTable('fleet.queue_entries')
        .set({
          status: 'admitted',
          reservation_id: reservationId,
          account_id: account.id,
          model: decision.model,
          reason: decision.reason,
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', id)
        .execute();
      this.metrics.queueWait.observe(
        { tenant: tenantId, account: account.id, outcome: 'admitted' },
        Math.max(0, now.toMillis() - instant(entry.created_at).toMillis()) / 1000,
      );
      await this.audit(trx, tenantId, request.taskId, { ...answer, reservationId, queueId: id });
      return true;
    });
  }

  /** A queue entry; with `waitSeconds`, holds the request until it leaves `waiting` or the wait ends. */
  async queueEntry(
    tenantId: string,
    id: string,
    waitSeconds = 0,
  ): Promise<QueueAnswer & { expiresAt?: string }> {
    const until = Date.now() + waitSeconds * 1000;
    for (;;) {
      const row = await this.db
        .selectFrom('fleet.queue_entries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw new BudgetApiError('BUDGET_ERR_NOT_FOUND', `no queue entry "${id}"`);
      const left = until - Date.now();
      if (row.status !== 'waiting' || left <= 0 || this.closing) {
        const answer = this.queueToWire(row);
        if (row.reservation_id) {
          const r = await this.db
            .selectFrom('fleet.reservations')
            .select('expires_at')
            .where('id', '=', row.reservation_id)
            .executeTakeFirst();
          if (r) return { ...answer, expiresAt: isoOf(r.expires_at) };
        }
        return answer;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.events.off(id, done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(POLL_MS, left));
        this.events.once(id, done);
      });
    }
  }

  private queueToWire(row: {
    id: string;
    task_id: string;
    status: string;
    account_id: string | null;
    model: string | null;
    priority: number;
    retry_at: Date | string | null;
    deadline: Date | string | null;
    reason: string;
    reservation_id: string | null;
    created_at: Date | string;
    updated_at: Date | string;
  }): QueueAnswer {
    return {
      id: row.id,
      taskId: row.task_id,
      status: row.status,
      ...(row.account_id ? { account: row.account_id } : {}),
      ...(row.model ? { model: row.model } : {}),
      priority: row.priority,
      ...(row.retry_at ? { retryAt: isoOf(row.retry_at) } : {}),
      ...(row.deadline ? { deadline: isoOf(row.deadline) } : {}),
      reason: row.reason,
      ...(row.reservation_id ? { reservationId: row.reservation_id } : {}),
      createdAt: isoOf(row.created_at),
      updatedAt: isoOf(row.updated_at),
    };
  }

  /** The waiting work of a tenant, per account, in admission order. */
  async listQueue(
    tenantId: string,
    account?: string,
  ): Promise<{ accounts: { account: string; waiting: QueueAnswer[] }[] }> {
    let q = this.db
      .selectFrom('fleet.queue_entries')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'waiting');
    if (account !== undefined) q = q.where('account_id', '=', account);
    const rows = await q.orderBy('priority', 'desc').orderBy('created_at').limit(1000).execute();
    const byAccount = new Map<string, QueueAnswer[]>();
    for (const row of rows) {
      const key = row.account_id ?? '';
      const list = byAccount.get(key) ?? [];
      list.push(this.queueToWire(row));
      byAccount.set(key, list);
    }
    return { accounts: [...byAccount.entries()].map(([a, waiting]) => ({ account: a, waiting })) };
  }

  /**
   * Called whenever capacity can have changed for a tenant (a signal, commit, release, expiry, reset,
   * authorization, policy change): re-evaluates its queue in the background, one run at a time.
   */
  capacityChanged(tenantId: string): void {
    // Whatever changed is not in this replica's held state: the next decision reads it fresh.
    this.states.forget(tenantId);
    if (this.closing) return;
    if (this.admitting.has(tenantId)) {
      this.again.add(tenantId);
      return;
    }
    const run = (async () => {
      // Past the answer that reported the change: on the embedded database, whose statements run in
      // this process, the admission's read would otherwise go ahead of writing it.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.closing) return;
      do {
        this.again.delete(tenantId);
        await this.admit(tenantId);
      } while (this.again.has(tenantId) && !this.closing);
    })()
      .catch((error: unknown) => this.log?.warn({ err: error }, 'queue admission failed'))
      .finally(() => this.admitting.delete(tenantId));
    this.admitting.set(tenantId, run);
  }

  /** Waits for background admissions in flight (tests and shutdown). */
  async settled(): Promise<void> {
    while (this.admitting.size > 0) await Promise.all([...this.admitting.values()]);
  }

  /** One background tick: audit fail-open decisions, sweep expiries, admit waiting work. */
  async tick(): Promise<void> {
    await this.auditFailOpen();
    const touched = await this.sweep();
    const tenants = await this.db
      .selectFrom('fleet.queue_entries')
      .select('tenant_id')
      .distinct()
      .where('status', '=', 'waiting')
      .execute();
    for (const t of tenants) touched.add(t.tenant_id);
    for (const t of touched) this.capacityChanged(t);
    await this.settled();
  }

  /** Writes the decisions made without the register to the audit table, once it is back. */
  private async auditFailOpen(): Promise<void> {
    const pending = this.failOpen.takePending();
    if (pending.length === 0) return;
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const p of pending) await this.audit(trx, p.tenantId, p.taskId, p.answer);
      });
    } catch (error) {
      this.failOpen.putBack(pending);
      throw error;
    }
  }

  /** Starts the expiry sweeper and queue-admission timer (every replica runs one; they are safe together). */
  startBackground(log: FastifyBaseLogger): void {
    this.log = log;
    let running = false;
    this.timer = setInterval(() => {
      if (running || this.closing) return;
      running = true;
      this.tick()
        .catch((error: unknown) =>
          log.warn({ err: error instanceof Error ? error.message : error }, 'background tick failed'),
        )
        .finally(() => {
          running = false;
        });
    }, TICK_MS);
    this.timer.unref();
  }

  /** Stops the timer and lets long-polls return at once. */
  async stopBackground(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.events.emit('closing');
    await this.settled();
  }

  /** The current time as the database sees it (reservations and expiry use it). */
  async now(): Promise<DateTime> {
    return instant(await databaseNow(this.db));
  }
}

/**
 * What a reservation takes for a decision that reserves (allow, downgrade, reroute): the amounts the
 * core decided and the limits it checked them against, for the gate and for queue admission alike.
 */
function reserveInput(
  id: string,
  tenantId: string,
  config: TenantConfig,
  account: Account,
  request: DispatchRequest,
  decision: Extract<Decision, { decision: 'allow' | 'downgrade' | 'reroute' }>,
  raw: unknown,
  now: DateTime,
): ReserveInput {
  return {
    id,
    tenantId,
    taskId: request.taskId,
    account: account.id,
    provider: account.provider,
    model: decision.model,
    decision: decision.decision,
    usd: decision.reserve.usd,
    windows: decision.reserve.windows,
    ttlMs: config.policy.policy.reservations.ttl.toMillis(),
    request: raw,
    guards: guardsFor(config, account, request, now),
  };
}

/** What `fleet.reservation_settle` answers when it may settle (what was freed, when it settled something). */
interface SettleAnswer extends HeldChange {
  status: string;
  tenant: string;
  settled: boolean;
  waiting: boolean;
}

/** What `fleet.reservation_settle` (and its batch) answers for one entry. */
type SettleOutcome = (SettleAnswer & { ok: true }) | { ok: false; code: string; message: string };

/** The audit row of an answer, as the one-statement reservation writes it. */
function auditOf(a: GateAnswer): ReserveAudit {
  return {
    decision: a.decision,
    ...(a.account !== undefined ? { account: a.account } : {}),
    ...(a.model !== undefined ? { model: a.model } : {}),
    reason: a.reason,
    trace: a.trace,
    ...(a.queueId !== undefined ? { queueId: a.queueId } : {}),
  };
}
