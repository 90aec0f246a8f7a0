// Where PostgreSQL's time goes in a gate cycle: the gate's load (each connection loops "gate, then
// release") on a bench database of its own, with PostgreSQL's own timings of every PL/pgSQL function
// (`track_functions = 'all'`, set for that database only) and, when the server preloads
// pg_stat_statements, of every statement — the ones inside `fleet.gate_reserve` and
// `fleet.reservation_settle_batch` included (`pg_stat_statements.track = 'all'`). Times are
// execution times, lock waits included, divided by the cycles the load completed.
//   node bench/pg-statements.mjs [--shape spread|hot] [--seconds 8] [--top 25]
// pg_stat_statements needs `shared_preload_libraries = 'pg_stat_statements'` and a restart of the
// server. This script never changes the server's configuration: without the library it prints the
// function timings and says how to load it. Put the setting back afterwards (`alter system reset
// shared_preload_libraries` and a restart): CI runs against the machine's server as it is left.
import { parseArgs } from 'node:util';
import { freshDb, load, query, startServer, vacuum, warmUp, PG_ADMIN_URL } from './lib.mjs';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'spread' },
    seconds: { type: 'string', default: '8' },
    top: { type: 'string', default: '25' },
  },
});
if (!['spread', 'hot'].includes(values.shape)) {
  console.error(`--shape must be spread or hot, not ${values.shape}`);
  process.exit(2);
}
const DB = 'bench_pg_statements';
const [{ libs }] = await query(PG_ADMIN_URL, 'select current_setting($1) as libs', [
  'shared_preload_libraries',
]);
const statements = libs.split(',').some((l) => l.trim() === 'pg_stat_statements');

const url = await freshDb(DB);
await query(url, `alter database ${DB} set track_functions = 'all'`);
if (statements) {
  await query(url, 'create extension pg_stat_statements');
  await query(url, `alter database ${DB} set pg_stat_statements.track = 'all'`);
}
const server = await startServer(['--database-url', url, '--accounts', '100']);
let result;
try {
  await warmUp(server, ['gate'], 3);
  await vacuum(url);
  await query(url, 'select pg_stat_reset()');
  if (statements) await query(url, 'select pg_stat_statements_reset()');
  result = await load(server, 'gate', values.shape, Number(values.seconds));
} finally {
  await server.stop();
}
// The statistics collector reports a backend's function counts when its transaction ends and at
// most every half second; the backends have just closed.
await new Promise((resolve) => setTimeout(resolve, 1000));
const perCycle = (ms) => ((Number(ms) * 1000) / result.ok).toFixed(1);
const functions = await query(
  url,
  `select funcname, calls, total_time, self_time from pg_stat_user_functions
    where schemaname = 'fleet' order by total_time desc`,
);
console.log(
  `${values.shape} shape: ${result.ok} cycles in ${values.seconds} s (${Math.round(result.rps)} cycles/s)\n`,
);
console.log('| function | calls | per call ms | total µs / cycle | self µs / cycle |');
console.log('| -------- | ----: | ----------: | ---------------: | --------------: |');
for (const f of functions) {
  console.log(
    `| \`${f.funcname}\` | ${f.calls} | ${(f.total_time / Math.max(1, f.calls)).toFixed(3)} | ${perCycle(f.total_time)} | ${perCycle(f.self_time)} |`,
  );
}
if (!statements) {
  console.log(
    `\nStatement timings need pg_stat_statements preloaded (shared_preload_libraries is '${libs}'): ` +
      `\`alter system set shared_preload_libraries = 'pg_stat_statements'\`, restart the server, run ` +
      'this again, then reset the setting and restart.',
  );
} else {
  const rows = await query(
    url,
    `select calls, total_exec_time, regexp_replace(query, '\\s+', ' ', 'g') as query
       from pg_stat_statements where dbid = (select oid from pg_database where datname = $1)
      order by total_exec_time desc limit $2`,
    [DB, Number(values.top)],
  );
  console.log('\n| statement (nested ones included) | calls | µs / cycle |');
  console.log('| -------------------------------- | ----: | ---------: |');
  for (const r of rows) {
    const text = r.query.length > 110 ? `${r.query.slice(0, 110)}…` : r.query;
    console.log(
      `| \`${text.replaceAll('|', '\\|').replaceAll('`', "'")}\` | ${r.calls} | ${perCycle(r.total_exec_time)} |`,
    );
  }
}
await query(PG_ADMIN_URL, `drop database ${DB}`);
