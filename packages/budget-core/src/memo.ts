/**
 * `compute(key, n)` kept per (immutable) key object for up to `cap` numbers at a time. For values the
 * gate recomputes on every call from settings that do not change and a number that takes few values
 * (a period's length, an estimate's token count): the map of a key is cleared when full rather than
 * ordered, since the numbers that recur are few, and it is collected with its key.
 */
export function memoizedByNumber<K extends object, V>(
  cap: number,
  compute: (key: K, n: number) => V,
): (key: K, n: number) => V {
  const held = new WeakMap<K, Map<number, V>>();
  return (key, n) => {
    let byNumber = held.get(key);
    if (!byNumber) {
      byNumber = new Map();
      held.set(key, byNumber);
    }
    let v = byNumber.get(n);
    if (v === undefined) {
      v = compute(key, n);
      if (byNumber.size >= cap) byNumber.clear();
      byNumber.set(n, v);
    }
    return v;
  };
}

/**
 * `compute(key)`, computed once per (immutable) key object and kept while the key lives: for values
 * derived from settings or parsed inputs that the gate would otherwise derive again on every call.
 */
export function memoized<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const held = new WeakMap<K, V>();
  return (key) => {
    let v = held.get(key);
    if (v === undefined) {
      v = compute(key);
      held.set(key, v);
    }
    return v;
  };
}
