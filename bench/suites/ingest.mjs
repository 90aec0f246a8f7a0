// Suite 4: ingestion. `POST /v1/spend` in batches of 1,000 records, one batch in flight (as the CLI
// import sends them), against `COPY` of the very same rows into the very same table (fleet.spend_ledger,
// with its indexes and unique key), measured in the same run; then the same batches replayed (every
// record a duplicate). COPY runs through psql's \copy from a CSV the table itself exported, so it
// writes exactly the rows the service wrote.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { QUICK, WORK, benchCall, freshDb, median, query, run, saveResult, startServer } from '../lib.mjs';
import { summarise } from '../profile-summary.mjs';

const BATCH = 1_000;
const BATCHES = QUICK ? 10 : 30;
const ROUNDS = QUICK ? 1 : 5;
const WARM_UP_BATCHES = 5;
const log = (...a) => console.error('[ingest]', ...a);

function batches(round) {
  const at = new Date().toISOString();
  const out = [];
  for (let b = 0; b < BATCHES; b++) {
    const records = [];
    for (let i = 0; i < BATCH; i++) {
      const k = b * BATCH + i;
      records.push({
        host: `host-${k % 7}`,
        agent: 'claude-code',
        mission: `m-${k % 13}`,
        task: `task-${round}-${k}`,
        taskClass: 'feature',
        provider: 'anthropic',
        account: `acct-${k % 100}`,
        model: 'claude-sonnet-4',
        inputTokens: 1000 + (k % 500),
        outputTokens: 200 + (k % 300),
        cacheReadTokens: 5000,
        cacheWriteTokens: 100,
        usd: '0.0123',
        kind: 'actual',
        occurredAt: at,
        idempotencyKey: `r${round}-k${k}`,
      });
    }
    out.push(JSON.stringify({ records }));
  }
  return out;
}

async function post(server, bodies) {
  const start = performance.now();
  let inserted = 0;
  let duplicates = 0;
  for (const body of bodies) {
    const res = await fetch(`${server.url}/v1/spend`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
      body,
    });
    if (res.status !== 200) throw new Error(`POST /v1/spend answered ${res.status}: ${await res.text()}`);
    const j = await res.json();
    inserted += j.inserted;
    // The service lists the duplicate keys; only their number matters here.
    duplicates += Array.isArray(j.duplicates) ? j.duplicates.length : Number(j.duplicates);
  }
  const seconds = (performance.now() - start) / 1000;
  return { seconds, recordsPerSecond: (bodies.length * BATCH) / seconds, inserted, duplicates };
}

const url = await freshDb('bench_ingest');
const server = await startServer(['--database-url', url, '--accounts', '100']);
const rounds = [];
try {
  // Warm-up batches of their own keys, so the measured rounds see the steady state of a running service:
  // with one batch only, the first round ran ~10 % slower than the second in every run (the JIT was
  // still optimising the per-record code).
  await post(server, batches('w').slice(0, WARM_UP_BATCHES));
  for (let r = 0; r < ROUNDS; r++) {
    const bodies = batches(r);
    const api = await post(server, bodies);
    log(r, 'api', Math.round(api.recordsPerSecond), 'records/s', api.inserted, 'inserted');
    const replay = await post(server, bodies);
    log(r, 'replay', Math.round(replay.recordsPerSecond), 'records/s', replay.duplicates, 'duplicates');
    // The same rows, out of the table and back in with COPY.
    const csv = join(WORK, `ingest-${r}.csv`);
    const where = `idempotency_key like 'r${r}-%'`;
    await run('psql', [
      url,
      '-qc',
      `\\copy (select * from fleet.spend_ledger where ${where}) to '${csv}' csv`,
    ]);
    await query(url, `delete from fleet.spend_ledger where ${where}`);
    await query(url, 'vacuum fleet.spend_ledger');
    const t0 = performance.now();
    await run('psql', [url, '-qc', `\\copy fleet.spend_ledger from '${csv}' csv`]);
    const copySeconds = (performance.now() - t0) / 1000;
    const copy = { seconds: copySeconds, recordsPerSecond: (BATCHES * BATCH) / copySeconds };
    log(r, 'copy', Math.round(copy.recordsPerSecond), 'records/s');
    rmSync(csv, { force: true });
    rounds.push({ api, replay, copy });
  }
  // Where the service's time goes, profiled apart from the measured rounds (fresh keys).
  const file = join(WORK, 'ingest.cpuprofile');
  await benchCall(server, '/bench/profile/start');
  await post(server, batches('p').slice(0, 5));
  await benchCall(server, '/bench/profile/stop', { file });
  rounds.profile = summarise(file);
} finally {
  await server.stop();
}
const apiRps = median(rounds.map((r) => r.api.recordsPerSecond));
const replayRps = median(rounds.map((r) => r.replay.recordsPerSecond));
const copyRps = median(rounds.map((r) => r.copy.recordsPerSecond));
saveResult('ingest', {
  batch: BATCH,
  batches: BATCHES,
  rounds,
  apiRps,
  replayRps,
  copyRps,
  // Each round measures the service and COPY back to back, so its own ratio is what one moment of this
  // shared machine allowed both; the median of those is steadier than a ratio of medians.
  ratio: median(rounds.map((r) => r.api.recordsPerSecond / r.copy.recordsPerSecond)),
  roundRatios: rounds.map((r) => r.api.recordsPerSecond / r.copy.recordsPerSecond),
  replayOverApi: median(rounds.map((r) => r.replay.recordsPerSecond / r.api.recordsPerSecond)),
  profile: rounds.profile,
});
log('done');
