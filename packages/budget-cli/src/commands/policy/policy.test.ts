import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { policySchema } from '@mosaic/budget-core';
import { STARTER_POLICY } from './starter.js';
import { diffDocuments } from './diff.js';

describe('policy init and apply', () => {
  it('the starter policy parses with the core schema and names the four accounts of a typical fleet', () => {
    const doc: unknown = parse(STARTER_POLICY);
    const policy = policySchema.parse(doc);
    expect(policy.routing.order).toEqual(['max-a', 'max-b', 'codex-plus', 'anthropic-api']);
    expect(policy.ceilings.accounts['anthropic-api']?.usd.toString()).toBe('200');
    expect(policy.taskClasses.hotfix?.queue).toBe(false);
  });

  it('diff reports added, removed and changed paths, and nothing for equal documents', () => {
    const before = { ladder: ['a', 'b'], queue: { enabled: true }, prices: {} };
    const after = { ladder: ['b', 'a'], queue: { enabled: true, maxWait: 'PT1H' }, version: 1 };
    expect(diffDocuments(before, after)).toEqual([
      { path: 'ladder', op: 'changed', before: ['a', 'b'], after: ['b', 'a'] },
      { path: 'prices', op: 'removed', before: {} },
      { path: 'queue.maxWait', op: 'added', after: 'PT1H' },
      { path: 'version', op: 'added', after: 1 },
    ]);
    expect(diffDocuments(after, structuredClone(after))).toEqual([]);
  });
});
