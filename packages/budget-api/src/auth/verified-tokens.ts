import type { Principal } from './scopes.js';

// A cached principal is trusted for at most this long before the token table is read again, which
// also keeps `last_used_at` true to the minute.
const REVERIFY_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  principal: Principal;
  verifiedAt: number;
}

/**
 * Principals of tokens this replica verified against the token table, keyed by the token's hash.
 *
 * Only routes that confirm the token themselves, in the same statement as their own work (the gate
 * and a release: the hot path an orchestrator calls per task), take a principal from here. Their
 * statement reads the token's row again, so a token revoked on any replica is refused on its very
 * next request there too — the cache saves a round trip, never a revocation check. Every other route
 * reads the token table on each request.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();

  /** The principal verified for this token hash, while it is recent enough to trust. */
  get(hash: string, nowMs: number): Principal | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (nowMs - entry.verifiedAt > REVERIFY_MS) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.principal;
  }

  /** Remembers a principal just verified against the token table. */
  set(hash: string, principal: Principal, nowMs: number): void {
    // Tokens in use are few; the bound only keeps a flood of distinct valid tokens from growing it.
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(hash, { principal, verifiedAt: nowMs });
  }

  /** Forgets a token (its route's statement found it revoked). */
  evictToken(tokenId: string): void {
    for (const [hash, entry] of this.entries) {
      if (entry.principal.tokenId === tokenId) this.entries.delete(hash);
    }
  }
}
