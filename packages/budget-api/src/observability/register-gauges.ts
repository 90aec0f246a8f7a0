import { Gauge, type Registry } from 'prom-client';
import type { AccountView } from './pace-state.js';

// Views read for one scrape are reused by every gauge of that scrape. prom-client starts every
// metric's collect() in registration order, so `budget_register_up` (registered first) starts a
// fresh read and the other gauges share it; a lone gauge read outside a scrape reuses a read no
// older than this.
const SHARE_MS = 1_000;

type WindowLabels = 'tenant' | 'provider' | 'account' | 'window';

function ratio(percent: { toNumber(): number }): number {
  return percent.toNumber() / 100;
}

/**
 * Gauges that describe the register (window usage and pace, ceilings, the queue), computed at
 * scrape time by a `collect()` callback from the small state tables, so every replica reports the
 * same, current values and nothing is kept in process memory between scrapes.
 */
export class RegisterGauges {
  private shared: { at: number; views: Promise<AccountView[] | undefined> } | undefined;

  /**
   * @param registry where the gauges are registered
   * @param load reads the current views of every tenant (see `readPaceState`)
   * @param onError told when a read fails (the gauges are then empty and `budget_register_up` is 0)
   */
  constructor(
    registry: Registry,
    private readonly load: () => Promise<AccountView[]>,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    const windowLabels: WindowLabels[] = ['tenant', 'provider', 'account', 'window'];
    this.gauge(
      registry,
      'budget_register_up',
      'Whether the last scrape could read the register (1) or not (0)',
      [],
      (g, views) => {
        g.set(views ? 1 : 0);
      },
      true,
    );
    this.windowGauge(
      registry,
      'budget_window_used_ratio',
      'Used fraction of the window (signalled plus unsignaled spend; may exceed 1)',
      windowLabels,
      (w) => ratio(w.pace.usedPercent),
    );
    this.windowGauge(
      registry,
      'budget_window_reserved_ratio',
      'Fraction of the window held by live reservations',
      windowLabels,
      (w) => ratio(w.pace.reservedPercent),
    );
    this.windowGauge(
      registry,
      'budget_window_target_ratio',
      'Where the ideal line says usage should be now (0 at the period start, 1 at the reset)',
      windowLabels,
      (w) => ratio(w.pace.idealPercent),
    );
    this.windowGauge(
      registry,
      'budget_window_burst_ratio',
      'Burst allowance: how far ahead of the ideal line the window may run',
      windowLabels,
      (w) => ratio(w.pace.burstPercent),
    );
    this.windowGauge(
      registry,
      'budget_pace_target_per_day_ratio',
      'Even-spread target rate: fraction of the window to use per day until the reset',
      windowLabels,
      (w) => ratio(w.pace.targetPerDayPercent),
    );
    this.windowGauge(
      registry,
      'budget_window_start_timestamp_seconds',
      'Start of the current window period, Unix seconds',
      windowLabels,
      (w) => w.pace.headroom.startMs / 1000,
    );
    this.windowGauge(
      registry,
      'budget_window_reset_timestamp_seconds',
      'Next reset of the window, Unix seconds, with the confidence of that instant',
      [...windowLabels, 'confidence'],
      (w) => w.pace.headroom.resetMs / 1000,
      (w) => ({ confidence: w.pace.confidence }),
    );
    this.windowGauge(
      registry,
      'budget_window_projected_exhaustion_timestamp_seconds',
      "When the window runs out at the period's average rate, Unix seconds (absent before any usage)",
      windowLabels,
      (w) => (w.projectedExhaustionMs === undefined ? undefined : w.projectedExhaustionMs / 1000),
    );

    const ceilingLabels = ['tenant', 'provider', 'account', 'period'];
    const ceilingGauge = (
      name: string,
      help: string,
      value: (c: NonNullable<AccountView['ceiling']>) => number,
    ): void => {
      this.gauge(registry, name, help, ceilingLabels, (g, views) => {
        for (const a of views ?? []) {
          if (!a.ceiling) continue;
          g.set(
            {
              tenant: a.tenant,
              provider: a.account.provider,
              account: a.account.id,
              period: a.ceiling.period,
            },
            value(a.ceiling),
          );
        }
      });
    };
    ceilingGauge('budget_ceiling_usd', 'Hard spend ceiling of a metered account for its period, USD', (c) =>
      c.usd.toNumber(),
    );
    ceilingGauge('budget_committed_usd', "Actual spend committed in the ceiling's current period, USD", (c) =>
      c.committedUsd.toNumber(),
    );
    ceilingGauge(
      'budget_reserved_usd',
      "Spend held by live reservations in the ceiling's current period, USD",
      (c) => c.reservedUsd.toNumber(),
    );

    this.gauge(
      registry,
      'budget_queue_depth',
      'Queue entries waiting for capacity',
      ['tenant', 'account'],
      (g, views) => {
        for (const a of views ?? []) g.set({ tenant: a.tenant, account: a.account.id }, a.queueDepth);
      },
    );
  }

  /** The views for this scrape (read once and shared by every gauge of the scrape). */
  private views(fresh = false): Promise<AccountView[] | undefined> {
    const now = Date.now();
    if (fresh || !this.shared || now - this.shared.at > SHARE_MS) {
      this.shared = {
        at: now,
        views: this.load().catch((error: unknown) => {
          this.onError(error);
          return undefined;
        }),
      };
    }
    return this.shared.views;
  }

  private gauge(
    registry: Registry,
    name: string,
    help: string,
    labelNames: string[],
    fill: (gauge: Gauge, views: AccountView[] | undefined) => void,
    fresh = false,
  ): void {
    const views = (): Promise<AccountView[] | undefined> => this.views(fresh);
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const held = await views();
        this.reset();
        fill(this, held);
      },
    });
  }

  private windowGauge(
    registry: Registry,
    name: string,
    help: string,
    labelNames: string[],
    value: (w: AccountView['windows'][number]) => number | undefined,
    extra: (w: AccountView['windows'][number]) => Record<string, string> = () => ({}),
  ): void {
    this.gauge(registry, name, help, labelNames, (g, views) => {
      for (const a of views ?? []) {
        for (const w of a.windows) {
          const v = value(w);
          if (v === undefined) continue;
          g.set(
            {
              tenant: a.tenant,
              provider: a.account.provider,
              account: a.account.id,
              window: w.window,
              ...extra(w),
            },
            v,
          );
        }
      }
    });
  }
}
