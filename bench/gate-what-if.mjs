// What parts of a gate cycle cost, each switched off or swapped in a bench database of its own,
// measured against the schema as it is, interleaved round by round: the audit row (a rule that drops
// its insert), the partial index on the reservations' expiry (dropped), and the reservation and
// release batches taken entry by entry as migration 0008 did (without migrations 0009 and 0010's
// one-pass path for clear batches). Throughput of the chosen shape (gate, then release) and the CPU
// per cycle of the service and of all PostgreSQL processes, read from /proc. A what-if for deciding
// on a redesign, not a product change: the switched-off writes are what the audit trail and the
// expiry sweeper need.
//   node bench/gate-what-if.mjs [--rounds 4] [--seconds 8] [--shape spread|hot] [--variants 'as is,entry by entry']
import { parseArgs } from 'node:util';
import { cpuDuring, freshDb, load, median, query, startServer, vacuum, warmUp } from './lib.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '8' },
    shape: { type: 'string', default: 'spread' },
    variants: { type: 'string' },
  },
});
const DROP_INDEX = 'drop index fleet.reservations_expiry';
const MAKE_INDEX = `create index reservations_expiry on fleet.reservations (expires_at) where status = 'live'`;
const SKIP_AUDIT = 'create rule skip_audit as on insert to fleet.gate_decisions do instead nothing';
const KEEP_AUDIT = 'drop rule skip_audit on fleet.gate_decisions';
// Migration 0008's batches: the locks, then every entry checked and written on its own — the
// reservations and the releases, without migrations 0009 and 0010's one-pass path for clear batches.
const entryByEntry = (batch, lock, each) =>
  `create or replace function ${batch}(ps jsonb) returns jsonb language plpgsql as $fn$
begin
  perform ${lock}(ps);
  return ${each}(ps);
end
$fn$`;
const ENTRY_BY_ENTRY = [
  entryByEntry('fleet.gate_reserve', 'fleet.gate_reserve_lock', 'fleet.gate_reserve_each'),
  entryByEntry(
    'fleet.reservation_settle_batch',
    'fleet.reservation_settle_lock',
    'fleet.reservation_settle_each',
  ),
];
const CURRENT = ['fleet.gate_reserve(jsonb)', 'fleet.reservation_settle_batch(jsonb)'].map(
  (f) => `select pg_get_functiondef('${f}'::regprocedure) as sql`,
);
const ALL_VARIANTS = {
  'as is': { on: [], off: [] },
  'entry by entry': { on: ENTRY_BY_ENTRY, off: [] },
  'no audit row': { on: [SKIP_AUDIT], off: [KEEP_AUDIT] },
  'no expiry index': { on: [DROP_INDEX], off: [MAKE_INDEX] },
  neither: { on: [SKIP_AUDIT, DROP_INDEX], off: [KEEP_AUDIT, MAKE_INDEX] },
};
const chosen = values.variants?.split(',').map((v) => v.trim()) ?? Object.keys(ALL_VARIANTS);
const unknown = chosen.filter((v) => !Object.hasOwn(ALL_VARIANTS, v));
if (unknown.length > 0) {
  console.error(`unknown variant(s): ${unknown.join(', ')}; known: ${Object.keys(ALL_VARIANTS).join(', ')}`);
  process.exit(2);
}
const VARIANTS = Object.fromEntries(chosen.map((v) => [v, ALL_VARIANTS[v]]));

const url = await freshDb('bench_what_if');
const server = await startServer(['--database-url', url, '--accounts', '100']);
const rows = [];
try {
  // The functions as migrated, to put back after the variant that swaps them.
  for (const q of CURRENT) ALL_VARIANTS['entry by entry'].off.push((await query(url, q))[0].sql);
  await warmUp(server, ['gate'], 3);
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, v] of Object.entries(VARIANTS)) {
      for (const q of v.on) await query(url, q);
      await vacuum(url);
      const {
        result: r,
        serviceMs,
        postgresMs,
      } = await cpuDuring(server.pid, () => load(server, 'gate', values.shape, Number(values.seconds)));
      const row = {
        name,
        cyclesPerSecond: Math.round(r.rps),
        serviceMsPerCycle: serviceMs / r.ok,
        postgresMsPerCycle: postgresMs / r.ok,
      };
      rows.push(row);
      console.error(JSON.stringify(row));
      for (const q of v.off) await query(url, q);
    }
  }
} finally {
  await server.stop();
}
console.log('| schema | cycles/s (median) | range | service CPU ms / cycle | PostgreSQL CPU ms / cycle |');
console.log('| ------ | ----------------: | ----- | ---------------------: | ------------------------: |');
for (const name of Object.keys(VARIANTS)) {
  const mine = rows.filter((r) => r.name === name);
  const cps = mine.map((r) => r.cyclesPerSecond);
  console.log(
    `| ${name} | ${median(cps)} | ${Math.min(...cps)}–${Math.max(...cps)} | ${median(mine.map((r) => r.serviceMsPerCycle)).toFixed(3)} | ${median(mine.map((r) => r.postgresMsPerCycle)).toFixed(3)} |`,
  );
}
