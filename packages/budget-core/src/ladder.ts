import type { Policy } from './policy.js';
import type { AccountSnapshot } from './snapshot.js';
import { memoized } from './memo.js';

/**
 * The accounts a task class may use, in routing order: first those named in
 * `policy.routing.order` (in that order), then the rest by id. Sorting here is what makes a
 * decision independent of the order accounts arrive in.
 */
export function mappedAccounts(
  policy: Pick<Policy, 'taskClasses' | 'routing'>,
  taskClass: string,
  accounts: readonly AccountSnapshot[],
): AccountSnapshot[] {
  const allowed = Object.hasOwn(policy.taskClasses, taskClass)
    ? policy.taskClasses[taskClass]?.accounts
    : undefined;
  const list = allowed ? accounts.filter((a) => allowed.includes(a.account.id)) : [...accounts];
  const order = policy.routing.order;
  // Without a routing order (the usual case) the order is the ids': no look-ups per comparison.
  if (order.length === 0) return list.sort(byId);
  return list.sort((a, b) => compareRouting(order, a.account.id, b.account.id));
}

/** Ids in code-unit order, the tie-break of every routing order. */
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byId = (a: AccountSnapshot, b: AccountSnapshot): number => compareIds(a.account.id, b.account.id);

/** Compares two account ids by routing order (listed first, in list order), then by id. */
export function compareRouting(order: readonly string[], a: string, b: string): number {
  const ia = order.indexOf(a);
  const ib = order.indexOf(b);
  const ra = ia < 0 ? Number.MAX_SAFE_INTEGER : ia;
  const rb = ib < 0 ? Number.MAX_SAFE_INTEGER : ib;
  if (ra !== rb) return ra - rb;
  return compareIds(a, b);
}

/**
 * The model ladder for a task class, most capable first: the class's own ladder, else the
 * policy's, else the models of the mapped accounts in their listed order (each account lists its
 * models most capable first), taking accounts in routing order, so a fleet of Anthropic accounts
 * routed before an OpenAI account yields opus → sonnet → haiku → codex.
 */
export function resolveLadder(
  policy: Pick<Policy, 'taskClasses' | 'ladder'>,
  taskClass: string,
  mapped: readonly AccountSnapshot[],
): string[] {
  const own = Object.hasOwn(policy.taskClasses, taskClass)
    ? policy.taskClasses[taskClass]?.ladder
    : undefined;
  if (own && own.length > 0) return own;
  if (policy.ladder.length > 0) return policy.ladder;
  const seen = new Set<string>();
  for (const a of mapped) for (const m of a.account.models) seen.add(m);
  return [...seen];
}

/**
 * The models a request may use, best first: the requested model, then the ladder's models below
 * it. A model that is not on the ladder has no cheaper rungs: it can only be rerouted or queued.
 */
export function candidateModels(ladder: readonly string[], requested: string): string[] {
  const i = ladder.indexOf(requested);
  if (i < 0) return [requested];
  return ladder.slice(i);
}

// A policy's ladders live as long as the policy, so their texts are kept with them; a ladder
// resolved from the accounts is new on each call and only pays for its own joins.
const texts = memoized((ladder: readonly string[]) => ({
  text: ladder.join(' > '),
  candidates: new Map<string, string>(),
}));

/** A ladder as the trace prints it: `opus > sonnet > haiku`. */
export function ladderText(ladder: readonly string[]): string {
  return texts(ladder).text;
}

/** {@link candidateModels} as the trace prints them. */
export function candidatesText(ladder: readonly string[], requested: string): string {
  const t = texts(ladder);
  let v = t.candidates.get(requested);
  if (v === undefined) {
    v = candidateModels(ladder, requested).join(' > ');
    // Only models on the ladder are kept: requests name any model, and the map must stay small.
    if (ladder.includes(requested)) t.candidates.set(requested, v);
  }
  return v;
}
