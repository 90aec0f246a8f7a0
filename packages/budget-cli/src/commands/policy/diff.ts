/** One difference between two JSON documents, at a dotted path. */
export interface Change {
  path: string;
  op: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The differences between two JSON documents: objects are compared key by key, arrays and scalars
 * as whole values (a reordered ladder is one change, which is how an operator reads it).
 */
export function diffDocuments(before: unknown, after: unknown, path = ''): Change[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in before)) return [{ path: p, op: 'added' as const, after: after[k] }];
      if (!(k in after)) return [{ path: p, op: 'removed' as const, before: before[k] }];
      return diffDocuments(before[k], after[k], p);
    });
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: path || '(root)', op: 'changed', before, after }];
}
