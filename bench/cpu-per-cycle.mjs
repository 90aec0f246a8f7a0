// Where a gate cycle's CPU goes, beside the peer's: CPU seconds of the service process and of all
// PostgreSQL processes (read from /proc before and after each measure) per completed cycle — "gate,
// then release" against "consume, then refund" — in both shapes, interleaved. On this 2-core machine
// the load generator, the service and PostgreSQL share the cores, so throughput follows CPU per
// cycle. PostgreSQL's figure includes its background processes (checkpointer, WAL writer), which
// work for whatever wrote. The last column is how many of the machine's cores were busy on average
// (from /proc/stat, the load generator included): whether a shape ran out of CPU or waited.
//   node bench/cpu-per-cycle.mjs [--rounds 2] [--seconds 8]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { cpuDuring, freshDb, load, median, startServer, vacuum, warmUp } from './lib.mjs';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, seconds: { type: 'string', default: '8' } },
});
const url = await freshDb('bench_cpu');
const server = await startServer(['--database-url', url, '--accounts', '100', '--peer']);
const rows = [];
try {
  await warmUp(server, ['gate', 'peer'], 2);
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const shape of ['hot', 'spread']) {
      for (const route of ['gate', 'peer']) {
        await vacuum(url);
        const {
          result: r,
          serviceMs,
          postgresMs: pgMs,
          busyCores,
        } = await cpuDuring(server.pid, () => load(server, route, shape, Number(values.seconds)));
        const row = {
          route,
          shape,
          cyclesPerSecond: Math.round(r.rps),
          serviceMsPerCycle: +(serviceMs / r.ok).toFixed(3),
          postgresMsPerCycle: +(pgMs / r.ok).toFixed(3),
          busyCores: +busyCores.toFixed(2),
        };
        rows.push(row);
        console.error(JSON.stringify(row));
      }
    }
  }
} finally {
  await server.stop();
}
console.log(
  `| route | shape | cycles/s | service CPU ms / cycle | PostgreSQL CPU ms / cycle | cores busy (of ${availableParallelism()}) |`,
);
console.log('| ----- | ----- | -------: | ---------------------: | ------------------------: | ---------: |');
for (const route of ['gate', 'peer']) {
  for (const shape of ['hot', 'spread']) {
    const mine = rows.filter((r) => r.route === route && r.shape === shape);
    const med = (k, digits) => median(mine.map((r) => r[k])).toFixed(digits);
    console.log(
      `| ${route} | ${shape} | ${med('cyclesPerSecond', 0)} | ${med('serviceMsPerCycle', 3)} | ${med('postgresMsPerCycle', 3)} | ${med('busyCores', 2)} |`,
    );
  }
}
