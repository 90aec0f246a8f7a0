import { DateTime } from 'luxon';
import { dec, maxDec, ZERO } from '@mosaic/budget-core';
import type { HoldRef } from '../db/schema.js';
import { instant } from '../register/wire.js';
import { totalsKey, windowKey, type GateState } from './snapshot.js';

/**
 * How long a replica decides from the register state it read last, before reading it again. Within
 * it, this replica's own reservations and releases are applied to the held state as they happen;
 * other replicas' changes are seen once it ends. A limit never depends on it: the write re-checks
 * every ceiling, concurrency limit, configuration version and token in its own statement.
 */
export const STATE_TTL_MS = 200;

/**
 * How old a held state may grow while one request reads it anew. Past the TTL, the first request
 * reads the register and the others go on deciding from the held state until that read lands, so a
 * busy replica sends one read per TTL instead of one per request that arrives while the read is in
 * flight (measured: a fifth of all gate requests read the register, every one of them at the same
 * moments). Past this age every request reads, whatever is in flight: a read that slow has failed
 * or the database is struggling, and the state is then too old to pace from.
 */
export const STATE_MAX_AGE_MS = 1_000;

/** What a reservation took (or a settlement freed), to apply to a held state. */
export interface HeldChange {
  account: string;
  provider: string;
  usd: string;
  holds: HoldRef[];
  windows: { window: string; percent: string }[];
}

interface Entry {
  state: GateState;
  readAtMs: number;
  /** A request has set out to read this tenant's state anew, and its read has not landed. */
  refreshing?: true;
}

/**
 * The register state each tenant's last decision read, so a steady stream of gate requests costs one
 * round trip each (the write) instead of two. Only `allow` is ever decided from a held state: any other
 * outcome is decided again on a fresh read, so staleness can never queue, downgrade or refuse work
 * that fits. Local changes that are not reservations (signals, spend, commits, configuration) drop
 * the tenant's entry.
 */
export class GateStates {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = STATE_TTL_MS,
    private readonly maxAgeMs = STATE_MAX_AGE_MS,
  ) {}

  /**
   * The held state with its clock moved on by the time since it was read, while it is fresh enough;
   * `undefined` tells the caller to read the register (and {@link remember} what it read). Past the
   * TTL exactly one caller is told so, until its read lands or the state reaches the maximum age.
   */
  fresh(tenantId: string, nowMs: number): GateState | undefined {
    const entry = this.entries.get(tenantId);
    if (!entry) return undefined;
    const age = nowMs - entry.readAtMs;
    if (age < 0 || age > this.maxAgeMs) {
      this.entries.delete(tenantId);
      return undefined;
    }
    if (age > this.ttlMs && !entry.refreshing) {
      entry.refreshing = true;
      return undefined;
    }
    return { ...entry.state, now: DateTime.fromMillis(entry.state.now.toMillis() + age, { zone: 'utc' }) };
  }

  /** Holds a state just read (without what one task holds: that is asked again per task). */
  remember(tenantId: string, state: GateState, nowMs: number): void {
    const { held: _held, waiting: _waiting, ...shared } = state;
    this.entries.set(tenantId, { state: shared, readAtMs: nowMs });
  }

  /** Drops a tenant's held state (something other than a reservation changed it). */
  forget(tenantId: string): void {
    this.entries.delete(tenantId);
  }

  /** Applies a reservation this replica took. */
  reserved(tenantId: string, change: HeldChange): void {
    this.apply(tenantId, change, 1);
  }

  /** Applies a release or expiry this replica settled. */
  released(tenantId: string, change: HeldChange): void {
    this.apply(tenantId, change, -1);
  }

  private apply(tenantId: string, change: HeldChange, sign: 1 | -1): void {
    const entry = this.entries.get(tenantId);
    if (!entry) return;
    const { state } = entry;
    const usd = dec(change.usd).times(sign);
    // Every key first: a period this state has no row for (its first reservation) means read it fresh.
    const keys = change.holds.map((h) =>
      totalsKey(h.scope, h.key, h.period, instant(h.periodStart).toMillis()),
    );
    if (keys.some((k) => !state.totals.has(k))) {
      this.entries.delete(tenantId);
      return;
    }
    // Held objects are replaced, never changed: a snapshot built earlier keeps what it saw.
    for (const k of keys) {
      const row = state.totals.get(k);
      if (row) state.totals.set(k, { ...row, reservedUsd: maxDec(row.reservedUsd.plus(usd), ZERO) });
    }
    for (const w of change.windows) {
      const key = windowKey(change.account, w.window);
      const row = state.windows.get(key);
      if (row) {
        const reservedPercent = maxDec(row.reservedPercent.plus(dec(w.percent).times(sign)), ZERO);
        state.windows.set(key, { ...row, reservedPercent });
      }
    }
    const { inflight } = state;
    inflight.account.set(change.account, Math.max(0, (inflight.account.get(change.account) ?? 0) + sign));
    inflight.provider.set(change.provider, Math.max(0, (inflight.provider.get(change.provider) ?? 0) + sign));
    inflight.total = Math.max(0, inflight.total + sign);
  }
}
