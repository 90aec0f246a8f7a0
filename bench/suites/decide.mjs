// Suite 1: the pure decision cost. `decide()` on snapshots of 1, 10 and 100 subscription accounts,
// each with a 5-hour and a weekly window, a hard ceiling, live authorizations (rapid, overspend,
// urgency-bypass) and the full four-model ladder. The request names no account, so the gate ranks
// every mapped account (the costliest path); the requested model does not fit on the busiest
// accounts, so the ladder is walked. Timed with tinybench (p50/p99 per call, in µs).
import { Bench } from 'tinybench';
import { decide } from '../../packages/budget-core/dist/index.js';
import { QUICK, saveResult } from '../lib.mjs';
import { NOW, freshStateOf, policy, request, snapshotOf } from './decide-fixture.mjs';

const SIZES = [1, 10, 100];
const bench = new Bench({ time: QUICK ? 300 : 2000, warmupTime: QUICK ? 100 : 500 });
const outcomes = {};
for (const n of SIZES) {
  const snap = snapshotOf(n);
  const d = decide(request, snap, policy, NOW);
  outcomes[n] = `${d.decision} ${d.account ?? '-'} ${d.model ?? '-'} (${d.trace.length} trace steps)`;
  bench.add(`decide ${n} accounts`, () => {
    decide(request, snap, policy, NOW);
  });
}
// The first decision on a state just read: each call gets a snapshot it has never seen, built
// outside the timed call (tinybench times the function only, not beforeEach).
const fresh = {};
for (const n of SIZES) {
  const snap = snapshotOf(n);
  fresh[n] = snap;
  bench.add(
    `decide ${n} accounts, new state`,
    () => {
      decide(request, fresh[n], policy, NOW);
    },
    {
      beforeEach() {
        fresh[n] = freshStateOf(snap);
      },
    },
  );
}
await bench.run();

const latency = (t) => ({
  p50us: t.result.latency.p50 * 1000,
  p99us: t.result.latency.p99 * 1000,
  meanUs: t.result.latency.mean * 1000,
});
const rows = SIZES.map((n, i) => ({
  accounts: n,
  ...latency(bench.tasks[i]),
  samples:
    bench.tasks[i].result.latency.samples?.length ??
    bench.tasks[i].result.totalTime / bench.tasks[i].result.latency.mean,
  newState: latency(bench.tasks[SIZES.length + i]),
  outcome: outcomes[n],
}));
for (const r of rows)
  console.error(
    '[decide]',
    r.accounts,
    'p50',
    r.p50us.toFixed(1),
    'µs p99',
    r.p99us.toFixed(1),
    'µs; new state p50',
    r.newState.p50us.toFixed(1),
    'µs',
    r.outcome,
  );
saveResult('decide', { rows });
