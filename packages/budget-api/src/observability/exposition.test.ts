import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { renderForTenant } from './exposition.js';
import { metricsPublicFromEnv } from './index.js';

describe('tenant-scoped exposition', () => {
  it("keeps the tenant's series and the replica's unlabelled ones, and drops other tenants'", async () => {
    const registry = new Registry();
    const c = new Counter({
      name: 'x_total',
      help: 'a "counter"\nover lines',
      labelNames: ['tenant', 'account'],
      registers: [registry],
    });
    const g = new Gauge({ name: 'up', help: 'up', registers: [registry] });
    const h = new Histogram({
      name: 'd_seconds',
      help: 'd',
      labelNames: ['tenant'],
      buckets: [1],
      registers: [registry],
    });
    c.inc({ tenant: 'a', account: 'acc "x"\\y' }, 2);
    c.inc({ tenant: 'b', account: 'secret' }, 5);
    g.set(1);
    h.observe({ tenant: 'a' }, 0.5);
    h.observe({ tenant: 'b' }, 3);
    const text = await renderForTenant(registry, 'a');
    expect(text).toContain('# HELP x_total a "counter"\\nover lines');
    expect(text).toContain('x_total{tenant="a",account="acc \\"x\\"\\\\y"} 2');
    expect(text).toContain('up 1');
    expect(text).toContain('d_seconds_bucket{le="1",tenant="a"} 1');
    expect(text).toContain('d_seconds_bucket{le="+Inf",tenant="a"} 1');
    expect(text).toContain('d_seconds_count{tenant="a"} 1');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('tenant="b"');
  });

  it('opens /metrics only when BUDGET_METRICS_PUBLIC says so, and refuses other values', () => {
    expect(metricsPublicFromEnv({})).toBe(false);
    expect(metricsPublicFromEnv({ BUDGET_METRICS_PUBLIC: 'true' })).toBe(true);
    expect(metricsPublicFromEnv({ BUDGET_METRICS_PUBLIC: '0' })).toBe(false);
    expect(() => metricsPublicFromEnv({ BUDGET_METRICS_PUBLIC: 'yes please' })).toThrow();
  });
});
