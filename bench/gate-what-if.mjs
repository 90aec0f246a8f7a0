// What two of a gate cycle's writes cost: the audit row and the partial index on the reservations'
// expiry, each switched off in a bench database of its own (a rule that drops the audit insert; the
// index dropped), measured against the schema as it is, interleaved round by round. Throughput of
// the 100-account shape (gate, then release) and the CPU per cycle of the service and of all
// PostgreSQL processes, read from /proc. A what-if for deciding on a redesign, not a product
// change: the switched-off writes are what the audit trail and the expiry sweeper need.
//   node bench/gate-what-if.mjs [--rounds 4] [--seconds 8] [--shape spread|hot]
import { parseArgs } from 'node:util';
import { cpuDuring, freshDb, load, median, query, startServer, vacuum, warmUp } from './lib.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '8' },
    shape: { type: 'string', default: 'spread' },
  },
});
const DROP_INDEX = 'drop index fleet.reservations_expiry';
const MAKE_INDEX = `create index reservations_expiry on fleet.reservations (expires_at) where status = 'live'`;
const SKIP_AUDIT = 'create rule skip_audit as on insert to fleet.gate_decisions do instead nothing';
const KEEP_AUDIT = 'drop rule skip_audit on fleet.gate_decisions';
const VARIANTS = {
  'as is': { on: [], off: [] },
  'no audit row': { on: [SKIP_AUDIT], off: [KEEP_AUDIT] },
  'no expiry index': { on: [DROP_INDEX], off: [MAKE_INDEX] },
  neither: { on: [SKIP_AUDIT, DROP_INDEX], off: [KEEP_AUDIT, MAKE_INDEX] },
};

const url = await freshDb('bench_what_if');
const server = await startServer(['--database-url', url, '--accounts', '100']);
const rows = [];
try {
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
