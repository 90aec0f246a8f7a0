/**
 * One rule the gate consulted, with the numbers it compared. Numbers are strings (decimals and
 * ISO instants) so that a trace is plain JSON and exact.
 */
export interface TraceStep {
  /** A stable rule name, e.g. `window.pace`, `ceiling.account`, `concurrency.provider`, `ladder.step`. */
  rule: string;
  outcome: 'pass' | 'fail' | 'info';
  account?: string;
  model?: string;
  window?: string;
  numbers?: Record<string, string>;
  /**
   * `route.rank`: the account ids best first. The scores are in `numbers`, but an object's key order
   * is not the ranking: JavaScript lists integer-like keys (`"7"`) first, and PostgreSQL's `jsonb`,
   * where the audit trail keeps traces, sorts every key.
   */
  order?: string[];
  note?: string;
}

/** A decision's trace: every rule consulted, in order. */
export type Trace = TraceStep[];
