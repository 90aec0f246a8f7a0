// Suites 2, 6 and 7 (service memory): the gate over HTTP on PostgreSQL, beside its two ceilings
// (a no-op route on the same Fastify server; pgbench's one-row conditional UPDATE … RETURNING) and its
// peer (rate-limiter-flexible's PostgreSQL limiter behind a Fastify route), then the 100-account shape
// on PGlite, then a CPU profile of the gate. Every gate request reserves against a ceiling far above
// what a run can spend, so nothing is refused; each connection then releases its reservation (live
// reservations stay bounded, as in a fleet), and each ceiling is also measured running that cycle of
// two operations (no-op then no-op; pgbench's reservation then its release), like for like.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  QUICK,
  WORK,
  benchCall,
  freshDb,
  load,
  median,
  pgbench,
  query,
  vacuum,
  saveResult,
  startServer,
  warmUp,
} from '../lib.mjs';
import { summarise } from '../profile-summary.mjs';
import { countRoundTrips } from '../roundtrips.mjs';

const SECONDS = QUICK ? 3 : 8;
const ROUNDS = QUICK ? 1 : 3;
const ACCOUNTS = 100;

// The reservation's shape in one statement, as pgbench runs it: add to reserved only when it still fits.
const UPDATE = (idExpr) => `${idExpr}
UPDATE bench_rows SET reserved_usd = reserved_usd + 0.01
 WHERE id = :id AND committed_usd + reserved_usd + 0.01 <= limit_usd
 RETURNING reserved_usd;
`;
const HOT_SQL = UPDATE('\\set id 1');
const SPREAD_SQL = UPDATE(`\\set id random(1, ${ACCOUNTS})`);
// The gate's cycle as pgbench runs it: the reservation, then its release as its own transaction, which
// commits asynchronously as the service's releases do (migration 0011, through the same
// `set_config(…, true)`; a volatile call in the condition runs before the row is written). One
// pgbench "transaction" is one cycle, so its tps compares with the gate's requests per second.
const CYCLE = (sqlText) => `${sqlText}UPDATE bench_rows SET reserved_usd = reserved_usd - 0.01
 WHERE id = :id AND set_config('synchronous_commit', 'off', true) IS NOT NULL
 RETURNING reserved_usd;
`;
const HOT_CYCLE_SQL = CYCLE(HOT_SQL);
const SPREAD_CYCLE_SQL = CYCLE(SPREAD_SQL);

const log = (...a) => console.error('[gate]', ...a);

async function postgresPart() {
  const url = await freshDb('bench_gate');
  await query(
    url,
    `create table bench_rows (id int primary key, committed_usd numeric not null default 0,
       reserved_usd numeric not null default 0, limit_usd numeric not null);
     insert into bench_rows (id, limit_usd) select g, 1000000000 from generate_series(1, ${ACCOUNTS}) g;`,
  );
  const server = await startServer(['--database-url', url, '--accounts', String(ACCOUNTS), '--peer']);
  const runs = [];
  try {
    await warmUp(server, ['noop', 'gate', 'peer']);
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so that a noisy neighbour hurts every measure of a round alike.
      for (const [kind, route, shape] of [
        ['http', 'noop', 'spread'],
        ['httpCycle', 'noop-cycle', 'spread'],
        ['gate', 'gate', 'hot'],
        ['peer', 'peer', 'hot'],
        ['gate', 'gate', 'spread'],
        ['peer', 'peer', 'spread'],
      ]) {
        // The whole bench database: the gate's tables, pgbench's and the peer's.
        await vacuum(url, []);
        const res = await load(server, route, shape, SECONDS);
        log(r, kind, shape, Math.round(res.rps), 'req/s', 'p99', res.latencyP99, 'ms', 'non2xx', res.non2xx);
        runs.push({ round: r, kind, ...res });
      }
      for (const [kind, shape, clients, sqlText] of [
        ['pgbench', 'hot', 1, HOT_SQL],
        ['pgbench', 'hot', 32, HOT_SQL],
        ['pgbench', 'spread', 1, SPREAD_SQL],
        ['pgbench', 'spread', 32, SPREAD_SQL],
        ['pgbenchCycle', 'hot', 1, HOT_CYCLE_SQL],
        ['pgbenchCycle', 'hot', 32, HOT_CYCLE_SQL],
        ['pgbenchCycle', 'spread', 1, SPREAD_CYCLE_SQL],
        ['pgbenchCycle', 'spread', 32, SPREAD_CYCLE_SQL],
      ]) {
        await vacuum(url, []);
        const res = await pgbench(url, sqlText, clients, SECONDS);
        log(r, kind, shape, clients, Math.round(res.tps), 'tps');
        runs.push({
          round: r,
          kind,
          shape,
          connections: clients,
          rps: res.tps,
          latencyAvgMs: res.latencyAvgMs,
        });
      }
    }
    // RSS as the load left it (the bar), then what is live after a full collection: RSS alone moves
    // with when V8 last collected (130 and 203 MB after two runs of this suite on 2026-12-03, with a
    // heap of ~26 MB live after each load in a separate check).
    const memory = { ...server.rss(), afterGc: await benchCall(server, '/bench/heap') };
    const decisions = await query(
      url,
      `select decision, count(*)::int as n from fleet.gate_decisions group by decision order by decision`,
    );
    const reservations = await query(url, `select count(*)::int as n from fleet.reservations`);
    return { runs, memory, decisions, reservations: reservations[0]?.n };
  } finally {
    await server.stop();
  }
}

async function pgliteRuns() {
  const dir = join(WORK, 'pglite-gate');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const server = await startServer(['--data-dir', dir, '--accounts', String(ACCOUNTS)]);
  const runs = [];
  try {
    await warmUp(server, ['noop', 'gate']);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [kind, route] of [
        ['http', 'noop'],
        ['gate', 'gate'],
      ]) {
        const res = await load(server, route, 'spread', SECONDS);
        log(
          r,
          'pglite',
          kind,
          Math.round(res.rps),
          'req/s',
          'p99',
          res.latencyP99,
          'ms',
          'non2xx',
          res.non2xx,
        );
        runs.push({ round: r, kind, ...res });
      }
    }
    return { runs, memory: { ...server.rss(), afterGc: await benchCall(server, '/bench/heap') } };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function profile() {
  const url = await freshDb('bench_gate_prof');
  const dir = join(WORK, 'prof');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'gate.cpuprofile');
  const server = await startServer(['--database-url', url, '--accounts', String(ACCOUNTS)]);
  try {
    await warmUp(server, ['gate']);
    await benchCall(server, '/bench/profile/start');
    await load(server, 'gate', 'spread', SECONDS);
    await benchCall(server, '/bench/profile/stop', { file });
  } finally {
    await server.stop();
  }
  return { file: 'bench/.work/prof/gate.cpuprofile', ...summarise(file) };
}

function summary(runs, kind, shape, connections) {
  const sel = runs.filter(
    (r) =>
      r.kind === kind && r.shape === shape && (connections === undefined || r.connections === connections),
  );
  return {
    rps: median(sel.map((r) => r.rps)),
    p50: median(sel.map((r) => r.latencyP50)),
    p99: median(sel.map((r) => r.latencyP99)),
    non2xx: sel.reduce((s, r) => s + (r.non2xx ?? 0), 0),
    errors: sel.reduce((s, r) => s + (r.errors ?? 0), 0),
    n: sel.length,
  };
}

const only = process.argv.find((a) => a.startsWith('--part='))?.slice(7);
const roundTrips =
  only && only !== 'roundtrips' ? undefined : await countRoundTrips(await freshDb('bench_gate_rt'), ACCOUNTS);
const pgPart = only && only !== 'postgres' ? undefined : await postgresPart();
const pglitePart = only && only !== 'pglite' ? undefined : await pgliteRuns();
const prof = only && only !== 'profile' ? undefined : await profile();

const result = { seconds: SECONDS, rounds: ROUNDS, accounts: ACCOUNTS };
if (pgPart) {
  const r = pgPart.runs;
  result.postgres = {
    http: summary(r, 'http', 'spread'),
    httpCycle: summary(r, 'httpCycle', 'spread'),
    gateHot: summary(r, 'gate', 'hot'),
    gateSpread: summary(r, 'gate', 'spread'),
    peerHot: summary(r, 'peer', 'hot'),
    peerSpread: summary(r, 'peer', 'spread'),
    pgHot1: summary(r, 'pgbench', 'hot', 1),
    pgHot32: summary(r, 'pgbench', 'hot', 32),
    pgSpread1: summary(r, 'pgbench', 'spread', 1),
    pgSpread32: summary(r, 'pgbench', 'spread', 32),
    pgCycleHot1: summary(r, 'pgbenchCycle', 'hot', 1),
    pgCycleHot32: summary(r, 'pgbenchCycle', 'hot', 32),
    pgCycleSpread1: summary(r, 'pgbenchCycle', 'spread', 1),
    pgCycleSpread32: summary(r, 'pgbenchCycle', 'spread', 32),
    memory: pgPart.memory,
    decisions: pgPart.decisions,
    reservations: pgPart.reservations,
    runs: r,
  };
}
if (pglitePart) {
  result.pglite = {
    http: summary(pglitePart.runs, 'http', 'spread'),
    gateSpread: summary(pglitePart.runs, 'gate', 'spread'),
    memory: pglitePart.memory,
    runs: pglitePart.runs,
  };
}
if (prof) result.profile = prof;
if (roundTrips) result.roundTrips = roundTrips;
saveResult('gate', result);
log('done');
