import { z } from 'zod';

/** What a token may do: `gate` ask and settle, `ingest` write spend and signals, `read` read, `admin` all. */
export const SCOPES = ['gate', 'ingest', 'read', 'admin'] as const;
/** See {@link SCOPES}. */
export const scopeSchema = z.enum(SCOPES);
/** See {@link SCOPES}. */
export type Scope = z.infer<typeof scopeSchema>;

/** Who is calling: a tenant and what it may do. */
export interface Principal {
  tenantId: string;
  scopes: readonly Scope[];
  /** The token's public id; absent for an in-process (local mode) caller. */
  tokenId?: string;
}

/** True when the principal may use a route that needs `scope` (admin may use every route). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}
