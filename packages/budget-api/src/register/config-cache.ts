import type { Account, Authorization } from '@mosaic/budget-core';
import type { FleetDb } from '../db/database.js';
import { listAccounts } from './accounts.js';
import { listAuthorizations } from './authorizations.js';
import { currentPolicy, type StoredPolicy } from './policy.js';
import { readConfigVersion } from './config-version.js';

/** A tenant's configuration as the gate reads it. */
export interface TenantConfig {
  /** The tenant this configuration belongs to. */
  tenantId: string;
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
    return this.load(tenantId, await readConfigVersion(this.db, tenantId), this.db);
  }

  /**
   * The tenant's configuration at `version`, which the caller read itself (the gate reads it in the
   * same statement as its snapshot, so a decision never costs a separate round trip for it). A caller
   * inside a transaction passes it as `via`: a reload then reads through the transaction's connection,
   * which on the embedded database is the only one and would otherwise wait for the transaction's end.
   */
  async at(tenantId: string, version: number, via: FleetDb = this.db): Promise<TenantConfig> {
    return this.load(tenantId, version, via);
  }

  private async load(tenantId: string, version: number, db: FleetDb): Promise<TenantConfig> {
    const held = this.entries.get(tenantId);
    if (held && held.version === version) return held;
    const [policy, accounts, authorizations] = await Promise.all([
      currentPolicy(db, tenantId),
      listAccounts(db, tenantId),
      listAuthorizations(db, tenantId),
    ]);
    const config: TenantConfig = {
      tenantId,
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

  /**
   * The configuration this replica last read for a tenant, without asking the database (which may be
   * unreachable: the gate's fail-open path reads the policy from here).
   */
  lastKnown(tenantId: string): TenantConfig | undefined {
    return this.entries.get(tenantId);
  }

  /** Drops a tenant's entry (after this replica changed its configuration). */
  invalidate(tenantId: string): void {
    this.entries.delete(tenantId);
  }
}
