import type { Registry } from 'prom-client';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Renders the registry in the Prometheus text format, keeping only the series whose `tenant`
 * label is `tenant` (series without a tenant label describe the replica and are kept): a tenant's
 * read token must not reveal other tenants' accounts.
 */
export async function renderForTenant(registry: Registry, tenant: string): Promise<string> {
  const metrics = await registry.getMetricsAsJSON();
  const lines: string[] = [];
  for (const m of metrics) {
    const values = m.values.filter((v) => {
      const t = (v.labels as Record<string, unknown>).tenant;
      return t === undefined || t === tenant;
    });
    if (values.length === 0 && m.values.length > 0) continue;
    lines.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`);
    for (const v of values) {
      const name = (v as { metricName?: string }).metricName ?? m.name;
      const labels = Object.entries(v.labels as Record<string, string | number | undefined>)
        .filter(([, value]) => value !== undefined)
        .map(([k, value]) => `${k}="${escapeLabel(String(value))}"`);
      lines.push(`${name}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${formatValue(v.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
