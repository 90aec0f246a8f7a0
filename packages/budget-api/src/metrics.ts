import { Counter, Registry } from 'prom-client';

/** The service's Prometheus metrics, one registry per app so tests and replicas do not share state. */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  /** Gate decisions by outcome. */
  readonly decisions = new Counter({
    name: 'budget_gate_decisions_total',
    help: 'Gate decisions by outcome',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });
  /** Commits that arrived after their reservation expired (recorded and counted anyway). */
  readonly lateCommits = new Counter({
    name: 'budget_late_commits_total',
    help: 'Commits received after the reservation expired',
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
    help: 'Reservations freed by expiry',
    registers: [this.registry],
  });
}
