import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from './verified-tokens.js';

describe('VerifiedTokens', () => {
  const principal = { tenantId: 't1', scopes: ['gate'] as const, tokenId: 'tok1' };

  it('answers a verified token until it is a minute old, then asks for the table again', () => {
    const cache = new VerifiedTokens();
    cache.set('h1', principal, 1_000);
    expect(cache.get('h1', 1_000 + 60_000)).toEqual(principal);
    expect(cache.get('h1', 1_000 + 60_001)).toBeUndefined();
    expect(cache.get('h1', 1_000)).toBeUndefined();
  });

  it('forgets every hash of a token found revoked, and never knows an unverified one', () => {
    const cache = new VerifiedTokens();
    cache.set('h1', principal, 0);
    cache.set('h2', { ...principal, tokenId: 'tok2' }, 0);
    cache.evictToken('tok1');
    expect(cache.get('h1', 0)).toBeUndefined();
    expect(cache.get('h2', 0)?.tokenId).toBe('tok2');
    expect(cache.get('unknown', 0)).toBeUndefined();
  });
});
