import { sql } from 'kysely';
import type { DateTime } from 'luxon';
import type { Account, Authorization } from '@mosaic/budget-core';
import type { FleetDb } from '../db/database.js';
import { listAccounts } from './accounts.js';
import { listAuthorizations } from './authorizations.js';
import { currentPolicy, type StoredPolicy } from './policy.js';
import { readConfigVersion } from './config-version.js';
import { instant } from './wire.js';

/** A tenant's configuration as the gate reads it. */
export interface TenantConfig {
  version: number;
  policy: StoredPolicy;
  accounts: Account[];
  accountsById: Map<string, Account>;
  /** Authorizations from the table and from the policy document. */
  authorizations: Authorization[];
}

/**
 * Per-replica cache of each tenant's policy, accounts and authorizations. Every request reads the
 * tenant's `config_version` (one indexed row); a different version means another replica (or this
 * one) changed the configuration, and the cache reloads. Nothing is ever served stale across a change.
 */
export class ConfigCache {
  private readonly entries = new Map<string, TenantConfig>();

  constructor(private readonly db: FleetDb) {}

  /** The tenant's configuration, reloaded when its version moved. */
  async get(tenantId: string): Promise<TenantConfig> {
    return this.load(tenantId, await readConfigVersion(this.db, tenantId));
  }

  /**
   * The tenant's configuration and the database's clock, from one round trip (the gate's hot path
   * reads both for every decision).
   */
  async getWithNow(tenantId: string): Promise<{ config: TenantConfig; now: DateTime }> {
    const result = await sql<{ now: Date | string; v: string | number }>`
      select now() as now, coalesce((select config_version from fleet.tenants where id = ${tenantId}), 0) as v
    `.execute(this.db);
    const row = result.rows[0];
    if (!row) throw new Error('select now() returned no row');
    return { config: await this.load(tenantId, Number(row.v)), now: instant(row.now) };
  }

  private async load(tenantId: string, version: number): Promise<TenantConfig> {
    const held = this.entries.get(tenantId);
    if (held && held.version === version) return held;
    const [policy, accounts, authorizations] = await Promise.all([
      currentPolicy(this.db, tenantId),
      listAccounts(this.db, tenantId),
      listAuthorizations(this.db, tenantId),
    ]);
    const config: TenantConfig = {
      version,
      policy,
      accounts,
      accountsById: new Map(accounts.map((a) => [a.id, a])),
      authorizations: [...policy.policy.authorizations, ...authorizations.map((a) => a.authorization)],
    };
    // Bounded by the number of tenants this replica serves; a reload replaces the entry in place.
    this.entries.set(tenantId, config);
    return config;
  }

  /** Drops a tenant's entry (after this replica changed its configuration). */
  invalidate(tenantId: string): void {
    this.entries.delete(tenantId);
  }
}
