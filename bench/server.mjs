// The bench server: the real service (built dist of @mosaic/budget-api) on PostgreSQL or PGlite, plus
// two routes that exist only here, never in the product:
//   POST /bench/noop  — the HTTP ceiling: the same Fastify instance parsing a JSON body and answering.
//   POST /bench/peer  — the peer: consumes one point from rate-limiter-flexible's PostgreSQL limiter.
//   POST /bench/heap  — memory after a full collection (heap used, RSS), to tell a leak from lazy GC.
// It sets up one tenant with N api accounts whose ceilings are so large that no run can exhaust them
// (so every gate request reserves; nothing is refused), prints one JSON line with its URL and token,
// and serves until SIGTERM.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { buildApp, createToken, migrate, openDatabase } from '../packages/budget-api/dist/index.js';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    'data-dir': { type: 'string' },
    accounts: { type: 'string', default: '100' },
    'pool-size': { type: 'string', default: '10' },
    peer: { type: 'boolean', default: false },
  },
});

const ACCOUNTS = Number(values.accounts);
// Far above anything a run can reserve: the bench measures deciding and reserving, not refusing.
const HUGE_CEILING = '1000000000';

const dataDir =
  values['data-dir'] ?? (values['database-url'] ? undefined : mkdtempSync(join(tmpdir(), 'bench-pglite-')));
const database = await openDatabase({
  ...(values['database-url']
    ? { databaseUrl: values['database-url'], poolSize: Number(values['pool-size']) }
    : {}),
  ...(dataDir ? { dataDir } : {}),
});
await migrate(database.db);
const { token } = await createToken(database.db, { tenant: 'bench', scopes: ['admin'] });
const app = await buildApp({ database, logger: false });

app.post('/bench/noop', { config: {} }, async (request) => ({ ok: true, taskId: request.body?.taskId }));

// The V8 CPU profiler (what `node --cpu-prof` runs), started and stopped around the measured load
// only, so start-up and warm-up do not fill the profile.
let session;
app.post('/bench/profile/start', async () => {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return { ok: true };
});
app.post('/bench/profile/stop', async (request) => {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(request.body.file, JSON.stringify(profile));
  session.disconnect();
  return { ok: true };
});

// Memory after a full collection (through the inspector, so no --expose-gc): what a load left live,
// as against what V8 merely has not collected yet, which RSS alone cannot tell apart.
app.post('/bench/heap', async () => {
  const gc = new Session();
  gc.connect();
  await gc.post('HeapProfiler.collectGarbage');
  gc.disconnect();
  const m = process.memoryUsage();
  const mb = (x) => Math.round((x / 1048576) * 10) / 10;
  return {
    heapUsedMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    externalMb: mb(m.external),
    rssMb: mb(m.rss),
  };
});

let peerPool;
if (values.peer && values['database-url']) {
  peerPool = new pg.Pool({ connectionString: values['database-url'], max: Number(values['pool-size']) });
  const limiter = await new Promise((resolve, reject) => {
    const l = new RateLimiterPostgres(
      {
        storeClient: peerPool,
        tableName: 'bench_peer_limits',
        points: 1_000_000_000,
        duration: 3600,
        keyPrefix: 'gate',
      },
      (err) => (err ? reject(err) : resolve(l)),
    );
  });
  app.post('/bench/peer', async (request) => {
    const res = await limiter.consume(request.body.account, 1);
    return { ok: true, remaining: res.remainingPoints };
  });
  // The peer's counterpart of a release: the load gives the point back, as the gate's load releases
  // its reservation, so both run the same cycle (take, then give back) against the same database.
  app.post('/bench/peer/refund', async (request) => {
    const res = await limiter.reward(request.body.account, 1);
    return { ok: true, remaining: res.remainingPoints };
  });
}

const auth = { authorization: `Bearer ${token}` };
for (let i = 0; i < ACCOUNTS; i++) {
  const res = await app.inject({
    method: 'PUT',
    url: `/v1/accounts/acct-${i}`,
    headers: auth,
    payload: {
      id: `acct-${i}`,
      provider: 'anthropic',
      kind: 'api',
      models: ['claude-sonnet-4', 'claude-haiku-4'],
      timezone: 'UTC',
      ceiling: { usd: HUGE_CEILING, period: 'P1M' },
    },
  });
  if (res.statusCode >= 300) throw new Error(`account setup failed: ${res.statusCode} ${res.body}`);
}
const policy = await app.inject({
  method: 'PUT',
  url: '/v1/policy',
  headers: auth,
  payload: { ladder: ['claude-sonnet-4', 'claude-haiku-4'] },
});
if (policy.statusCode >= 300) throw new Error(`policy setup failed: ${policy.statusCode} ${policy.body}`);

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(
  `${JSON.stringify({ ready: true, url: address, token, pid: process.pid, kind: database.kind })}\n`,
);

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  app
    .close()
    .then(() => database.close())
    .then(() => peerPool?.end())
    .finally(() => process.exit(0));
});
