import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Metrics } from '../metrics.js';
import { RegisterGauges } from './register-gauges.js';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const RULES = join(ROOT, 'docs', 'prometheus', 'alerts.yml');
const RULE_TESTS = join(ROOT, 'docs', 'prometheus', 'alerts.test.yml');
const DASHBOARD = join(ROOT, 'docs', 'grafana', 'budget.json');

function promtool(): string | undefined {
  // MOSAIC_NO_PROMTOOL=1 exercises the structural check on a machine that has promtool.
  if (process.env.MOSAIC_NO_PROMTOOL === '1') return undefined;
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? 'promtool' : undefined;
}

/** Every metric name the service exposes (counters, histograms and the scrape-time gauges). */
function exposedNames(): Set<string> {
  const metrics = new Metrics();
  new RegisterGauges(metrics.registry, () => Promise.resolve([]));
  const names = new Set<string>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(`${name}${s}`);
  }
  return names;
}

function referencedMetrics(expr: string): string[] {
  return [...expr.matchAll(/\bbudget_[a-z_]+\b/g)].map((m) => m[0]);
}

interface Rule {
  alert?: string;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

describe('Prometheus alert rules and the Grafana dashboard', () => {
  const doc = parse(readFileSync(RULES, 'utf8')) as { groups?: { name?: string; rules?: Rule[] }[] };
  const rules = (doc.groups ?? []).flatMap((g) => g.rules ?? []);

  it('are well-formed: promtool accepts the rules (or, without promtool, a structural check passes)', () => {
    const tool = promtool();
    if (tool) {
      const check = spawnSync(tool, ['check', 'rules', RULES], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
      return;
    }
    expect(doc.groups?.length).toBeGreaterThan(0);
    for (const g of doc.groups ?? []) expect(typeof g.name).toBe('string');
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(typeof r.expr).toBe('string');
      expect(String(r.for)).toMatch(/^\d+[smhd]$/);
      expect(['critical', 'warning', 'info']).toContain(r.labels?.severity);
      expect(typeof r.annotations?.summary).toBe('string');
      // Brackets balance: a cheap guard against a truncated expression.
      const expr = String(r.expr);
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ] as const) {
        expect(expr.split(open).length, `${r.alert}: ${open}${close}`).toBe(expr.split(close).length);
      }
    }
  });

  it('fire as intended on the unit-test series (promtool test rules, when promtool is installed)', () => {
    const tool = promtool();
    if (!tool) return;
    const run = spawnSync(tool, ['test', 'rules', RULE_TESTS], {
      encoding: 'utf8',
      cwd: join(ROOT, 'docs', 'prometheus'),
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  it('cover the alerts operators need and use only metrics the service exposes', () => {
    const names = exposedNames();
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'BudgetWindowExhaustionBeforeReset',
        'BudgetAheadOfPaceBeyondBurst',
        'BudgetQueueWaitHigh',
        'BudgetReservationsExpiring',
        'BudgetResetConfidenceUnknown',
      ]),
    );
    for (const r of rules) {
      for (const m of referencedMetrics(String(r.expr))) expect(names, `${r.alert} uses ${m}`).toContain(m);
    }
  });

  it('the Grafana dashboard queries only metrics the service exposes', () => {
    const names = exposedNames();
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(5);
    for (const e of exprs) for (const m of referencedMetrics(e)) expect(names, e).toContain(m);
  });
});
