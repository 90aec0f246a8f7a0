import { Counter, Histogram, Registry } from 'prom-client';
import type { Decimal } from 'decimal.js';
import { ZERO, type SpendRecord } from '@mosaic/budget-core';

/** What became of each record of an ingest batch. */
export type IngestResult = 'inserted' | 'duplicate' | 'rejected';

// Spend of one label set written since the counters were last read.
interface PendingSpend {
  labels: { tenant: string; provider: string; account: string; model: string };
  usd: Decimal;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** How a queue entry left the queue. */
export type QueueOutcome = 'admitted' | 'refused';

/**
 * The service's event metrics (counters and histograms), one registry per app so tests and
 * replicas do not share state. Every label is bounded by configuration (tenant, provider, account,
 * model, window, decision), never by a task, agent or request id. Counters are per replica:
 * Prometheus sums them across replicas (`sum without (instance)`). Gauges that describe the
 * register are added by `observability/register-gauges.ts` and computed at scrape time.
 */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  /** Gate decisions by outcome (answers to `POST /v1/gate`, replays excluded). */
  readonly decisions = new Counter({
    name: 'budget_gate_decisions_total',
    help: 'Gate decisions by outcome (allow, downgrade, reroute, queue, refuse)',
    labelNames: ['tenant', 'account', 'decision'] as const,
    registers: [this.registry],
  });
  /** Time to answer `POST /v1/gate`, decision and reservation included. */
  readonly gateDuration = new Histogram({
    name: 'budget_gate_duration_seconds',
    help: 'Time to answer POST /v1/gate (decide, reserve, audit), in seconds',
    labelNames: ['tenant'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  /** How long queued work waited before it was admitted or refused. */
  readonly queueWait = new Histogram({
    name: 'budget_queue_wait_seconds',
    help: 'Time queued work waited before admission or refusal, in seconds',
    labelNames: ['tenant', 'account', 'outcome'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400],
    registers: [this.registry],
  });
  /** Commits that arrived after their reservation expired (recorded and counted anyway). */
  readonly lateCommits = new Counter({
    name: 'budget_late_commits_total',
    help: 'Commits received after the reservation expired',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  /** Gate requests allowed under an account's fail-open cap while the database was unreachable. */
  readonly failOpen = new Counter({
    name: 'budget_gate_fail_open_total',
    help: 'Gate requests allowed under a fail-open cap while the register database was unreachable',
    labelNames: ['tenant', 'account'] as const,
    registers: [this.registry],
  });
  /** USD allowed under fail-open caps (estimates: nothing could be reserved). */
  readonly failOpenUsd = new Counter({
    name: 'budget_gate_fail_open_usd_total',
    help: 'Estimated USD allowed under fail-open caps while the register database was unreachable',
    labelNames: ['tenant', 'account'] as const,
    registers: [this.registry],
  });
  /** Reservations that lost a race for the last room under a limit and were decided again. */
  readonly raceRetries = new Counter({
    name: 'budget_reservation_race_retries_total',
    help: 'Reservations re-decided after a concurrent reservation took the room first',
    registers: [this.registry],
  });
  /** Reservations expired by the sweeper. */
  readonly expired = new Counter({
    name: 'budget_reservations_expired_total',
    help: 'Reservations freed by expiry (reserved and never committed or released)',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  // Spend written since the counters were last read, per label set (see recordSpend).
  private readonly pendingSpend = new Map<string, PendingSpend>();
  /** Actual spend written to the ledger, in API-equivalent USD. */
  readonly spendUsd = new Counter({
    name: 'budget_spend_usd_total',
    help: 'Actual spend written to the ledger, in API-equivalent USD',
    labelNames: ['tenant', 'provider', 'account', 'model'] as const,
    registers: [this.registry],
    collect: () => this.flushSpend(),
  });
  /** Actual tokens written to the ledger, by type. */
  readonly tokens = new Counter({
    name: 'budget_tokens_total',
    help: 'Actual tokens written to the ledger, by type (input excludes cached tokens)',
    labelNames: ['tenant', 'provider', 'account', 'model', 'type'] as const,
    registers: [this.registry],
    collect: () => this.flushSpend(),
  });
  /** Spend records received by `POST /v1/spend`, by what became of them. */
  readonly ingestRecords = new Counter({
    name: 'budget_ingest_records_total',
    help: 'Spend records received, by result (inserted, duplicate, rejected)',
    labelNames: ['tenant', 'result'] as const,
    registers: [this.registry],
  });

  /**
   * Counts ledger rows that were written (call after their transaction committed): actual spend and
   * tokens; projected rows are estimates and are not spend.
   */
  recordSpend(tenant: string, records: readonly SpendRecord[]): void {
    // prom-client validates and hashes the labels on every inc, which cost more than the rest of an
    // ingest batch's bookkeeping. The amounts are summed per label set here instead, and moved into
    // the counters when they are read (the collect hooks above), once per label set per scrape.
    for (const r of records) {
      if (r.kind !== 'actual') continue;
      const k = `${tenant}\u0000${r.provider}\u0000${r.account}\u0000${r.model}`;
      let s = this.pendingSpend.get(k);
      if (!s) {
        s = {
          labels: { tenant, provider: r.provider, account: r.account, model: r.model },
          usd: ZERO,
          input: 0,
          output: 0,
          cacheRead: 0,
          cacheWrite: 0,
        };
        // Bounded like the counters' own series: by the label sets configuration allows.
        this.pendingSpend.set(k, s);
      }
      s.usd = s.usd.plus(r.usd);
      s.input += r.inputTokens;
      s.output += r.outputTokens;
      s.cacheRead += r.cacheReadTokens;
      s.cacheWrite += r.cacheWriteTokens;
    }
  }

  // Moves the pending sums into the counters; both counters' collect hooks call it, so whichever is
  // read first brings both up to date.
  private flushSpend(): void {
    for (const { labels, usd, input, output, cacheRead, cacheWrite } of this.pendingSpend.values()) {
      // A float is fine here: metrics are for display and alerting, the register holds the exact decimal.
      this.spendUsd.inc(labels, usd.toNumber());
      this.tokens.inc({ ...labels, type: 'input' }, input);
      this.tokens.inc({ ...labels, type: 'output' }, output);
      this.tokens.inc({ ...labels, type: 'cache_read' }, cacheRead);
      this.tokens.inc({ ...labels, type: 'cache_write' }, cacheWrite);
    }
    this.pendingSpend.clear();
  }

  /** Counts the records of one ingest batch by result. */
  recordIngest(tenant: string, counts: Partial<Record<IngestResult, number>>): void {
    for (const [result, n] of Object.entries(counts)) {
      if (n && n > 0) this.ingestRecords.inc({ tenant, result }, n);
    }
  }
}
