import type { RunReport, SimulationReport } from './engine.js';

/** One (account, window) of a run, summarised over its complete periods. */
export interface WindowSummary {
  account: string;
  window: string;
  /** Complete periods (begun and reset inside the scenario). */
  periods: number;
  minUtilization: number | null;
  meanUtilization: number | null;
  /** Periods (complete or not) whose window was exhausted before its reset. */
  exhaustedEarly: number;
  maxLead: number;
}

/** Summarises a run's windows per (account, window), in the order they first appear. */
export function summarizeWindows(run: RunReport): WindowSummary[] {
  const out = new Map<string, WindowSummary & { sum: number }>();
  for (const w of run.windows) {
    const key = `${w.account}\u0000${w.window}`;
    let s = out.get(key);
    if (!s) {
      s = {
        account: w.account,
        window: w.window,
        periods: 0,
        minUtilization: null,
        meanUtilization: null,
        exhaustedEarly: 0,
        maxLead: 0,
        sum: 0,
      };
      out.set(key, s);
    }
    if (w.exhaustedAt !== null) s.exhaustedEarly++;
    if (w.maxLead > s.maxLead) s.maxLead = w.maxLead;
    if (!w.complete) continue;
    s.periods++;
    s.sum += w.utilization;
    s.minUtilization = s.minUtilization === null ? w.utilization : Math.min(s.minUtilization, w.utilization);
  }
  return [...out.values()].map(({ sum, ...s }) => ({
    ...s,
    meanUtilization: s.periods === 0 ? null : Math.round((sum / s.periods) * 10_000) / 10_000,
  }));
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The human-readable result of a simulation: per strategy and window, utilisation at reset over
 * complete periods, early exhaustions and the largest lead over the ideal line; then per strategy
 * the task outcomes, queue delays and momentum lost.
 */
export function formatReport(report: SimulationReport): string {
  const s = report.scenario;
  const title = `${s.name ?? 'Scenario'} — seed ${s.seed}, ${s.start} → ${s.end}, ${s.tasks} tasks`;
  const windowRows: string[][] = [];
  for (const run of report.runs) {
    for (const w of summarizeWindows(run)) {
      windowRows.push([
        run.strategy,
        `${w.account}/${w.window}`,
        String(w.periods),
        pct(w.minUtilization),
        pct(w.meanUtilization),
        String(w.exhaustedEarly),
        pct(w.maxLead),
      ]);
    }
  }
  const taskRows = report.runs.map((r) => [
    r.strategy,
    String(r.tasks.allowed),
    String(r.tasks.downgraded),
    String(r.tasks.rerouted),
    String(r.tasks.queued),
    String(r.tasks.refused),
    String(r.tasks.unserved),
    `${r.tasks.queueDelayMinutes.mean.toFixed(1)} / ${r.tasks.queueDelayMinutes.p95.toFixed(1)}`,
    String(r.momentumLostHours),
    `$${r.spendUsd}`,
  ]);
  return [
    title,
    '',
    table(
      ['strategy', 'window', 'periods', 'min util', 'mean util', 'exhausted early', 'max lead'],
      windowRows,
    ),
    '',
    table(
      [
        'strategy',
        'allowed',
        'downgraded',
        'rerouted',
        'queued',
        'refused',
        'unserved',
        'delay mean/p95 min',
        'momentum lost h',
        'spend',
      ],
      taskRows,
    ),
    '',
  ].join('\n');
}
