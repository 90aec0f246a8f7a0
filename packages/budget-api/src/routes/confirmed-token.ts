import type { FastifyInstance } from 'fastify';
import { BudgetApiError } from '../errors.js';

/**
 * Runs a route that confirms its own token (`confirmsToken` in its config: its statement reads the
 * token's row); when the token turns out revoked, this replica forgets the principal it had verified
 * for it, so the next request reads the token table again.
 */
export async function forgetIfRevoked<T>(
  app: FastifyInstance,
  tokenId: string | undefined,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (tokenId && error instanceof BudgetApiError && error.code === 'BUDGET_ERR_UNAUTHENTICATED') {
      app.verifiedTokens.evictToken(tokenId);
    }
    throw error;
  }
}
