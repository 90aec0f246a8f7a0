#!/usr/bin/env node
// Reliability test 14 (soak, not in CI): `pnpm soak` (after `pnpm build`).
// Starts one built service process, drives a mixed load (gate then commit or release, spend batches,
// reads) at a fixed rate for SOAK_MINUTES (default 10), and reports per interval: the process's RSS,
// p50/p99 latency and errors. It passes when RSS grows < 10% after warm-up, p99 stays stable (last
// interval ≤ 2× the first after warm-up) and no request failed.
// Rate: SOAK_RATE operations/s (a gate with its commit or release is one operation; a spend batch or
// a read is one), default 75 — half of what this mix sustains on this 2-core machine (~155
// operations/s, ~250 HTTP requests/s, measured with this script: above it latency grows without
// bound). The mix is heavier per request than suite 2's gate-then-release loop (~1,800 HTTP
// requests/s, docs/benchmarks.md): commits write the ledger and drop the held state, spend batches
// write ten rows each. Operations start on a fixed schedule whatever the answers' latency (an open
// loop), so a service that slows down shows it in its latency instead of in a lower rate.
// Database: SOAK_DATABASE_URL's server (a fresh database rel_soak_<random> is created and dropped),
// else PGlite in a temp directory.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const rate = Number(process.env.SOAK_RATE ?? 75);
const intervalS = Number(process.env.SOAK_INTERVAL_S ?? 30);
const adminUrl = process.env.SOAK_DATABASE_URL;
const serverJs = fileURLToPath(new URL('../dist/server.js', import.meta.url));
const token = `mbt_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;

let dbName;
let dataDir;
let databaseUrl;
if (adminUrl) {
  dbName = `rel_soak_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`create database ${dbName}`);
  await c.end();
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  databaseUrl = u.toString();
} else {
  dataDir = mkdtempSync(join(tmpdir(), 'mosaic-soak-'));
}

const args = {
  port: 0,
  host: '127.0.0.1',
  bootstrapToken: token,
  logLevel: 'warn',
  ...(databaseUrl ? { databaseUrl } : { dataDir }),
};
const child = spawn(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import { startServer } from ${JSON.stringify(pathToFileURL(serverJs).href)}; await startServer(${JSON.stringify(args)});`,
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let out = '';
child.stdout.on('data', (b) => (out += b));
child.stderr.on('data', (b) => (out += b));
const base = await new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error(`no start:\n${out}`)), 240_000);
  child.stdout.on('data', () => {
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) {
      clearTimeout(t);
      resolve(m[1]);
    }
  });
  child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
});

// Latency per kind of request over the whole run, so a slow route shows by name.
const byKind = new Map();
function kindOf(method, path) {
  if (path.startsWith('/v1/reservations/')) return path.endsWith('/commit') ? 'commit' : 'release';
  return `${method} ${path.split('?')[0]}`;
}

async function call(method, path, body) {
  const result = await send(method, path, body);
  const kind = kindOf(method, path);
  if (!byKind.has(kind)) byKind.set(kind, []);
  byKind.get(kind).push(result.ms);
  return result;
}

async function send(method, path, body) {
  const t0 = performance.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    const json = await res.json().catch(() => ({}));
    return { ok: res.status < 300, status: res.status, json, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, status: -1, json: { error: String(e) }, ms: performance.now() - t0 };
  }
}

const account = {
  id: 'acct-soak',
  provider: 'anthropic',
  kind: 'api',
  models: ['claude-sonnet-4'],
  timezone: 'UTC',
  ceiling: { usd: '1000000', period: 'P1D' },
};
await call('PUT', '/v1/accounts/acct-soak', account);

function rss() {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

let n = 0;
let interval = { lat: [], errors: 0, requests: 0 };
const rows = [];
const errorsSeen = [];
async function one() {
  const i = n++;
  const roll = i % 10;
  const record = (r) => {
    interval.lat.push(r.ms);
    interval.requests++;
    if (!r.ok) {
      interval.errors++;
      if (errorsSeen.length < 10) errorsSeen.push(`${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
    }
    return r;
  };
  if (roll < 6) {
    const g = record(
      await call('POST', '/v1/gate', {
        taskId: `soak-${i}`,
        taskClass: 'feature',
        model: 'claude-sonnet-4',
        account: 'acct-soak',
        estimate: { usd: '0.10' },
        agent: 'soak',
        host: 'soak',
      }),
    );
    const id = g.json.reservationId;
    if (id) {
      if (i % 2)
        record(
          await call('POST', `/v1/reservations/${id}/commit`, {
            actual: { inputTokens: 100, outputTokens: 10, usd: '0.07' },
          }),
        );
      else record(await call('POST', `/v1/reservations/${id}/release`));
    }
  } else if (roll < 9) {
    const records = Array.from({ length: 10 }, (_, k) => ({
      host: 'soak',
      agent: 'soak',
      mission: 'soak',
      task: `s-${i}-${k}`,
      taskClass: 'feature',
      provider: 'anthropic',
      account: 'acct-soak',
      model: 'claude-sonnet-4',
      inputTokens: 10,
      outputTokens: 1,
      usd: '0.001',
      kind: 'actual',
      occurredAt: new Date().toISOString(),
      idempotencyKey: `soak-${i}-${k}`,
    }));
    record(await call('POST', '/v1/spend', { records }));
  } else {
    record(await call('GET', i % 20 === 9 ? '/v1/pace' : '/v1/ledger?limit=50'));
  }
}

function pct(list, p) {
  if (list.length === 0) return 0;
  const s = [...list].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const started = Date.now();
const end = started + minutes * 60_000;
const inflight = new Set();
let nextReport = started + intervalS * 1000;
console.log(
  `soak: ${minutes} min at ${rate} operations/s against ${databaseUrl ? 'PostgreSQL' : 'PGlite'} (pid ${child.pid})`,
);
console.log('| t (s) | requests | errors | p50 ms | p99 ms | RSS MiB |');
console.log('| ----: | -------: | -----: | -----: | -----: | ------: |');
// Timers fire a millisecond or more late, so each tick sends however many requests the schedule owes
// by now rather than one per timer.
let sent = 0;
while (Date.now() < end) {
  const owed = Math.floor(((Date.now() - started) / 1000) * rate) - sent;
  for (let k = 0; k < owed; k++) {
    const p = one().finally(() => inflight.delete(p));
    inflight.add(p);
  }
  sent += Math.max(0, owed);
  await new Promise((r) => setTimeout(r, 5));
  if (Date.now() >= nextReport) {
    const row = {
      t: Math.round((Date.now() - started) / 1000),
      requests: interval.requests,
      errors: interval.errors,
      p50: pct(interval.lat, 50),
      p99: pct(interval.lat, 99),
      rss: rss(),
    };
    rows.push(row);
    console.log(
      `| ${row.t} | ${row.requests} | ${row.errors} | ${row.p50.toFixed(0)} | ${row.p99.toFixed(0)} | ${row.rss.toFixed(1)} |`,
    );
    interval = { lat: [], errors: 0, requests: 0 };
    nextReport += intervalS * 1000;
  }
}
await Promise.all(inflight);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
if (dbName) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`drop database if exists ${dbName} with (force)`);
  await c.end();
}
if (dataDir) rmSync(dataDir, { recursive: true, force: true });

// Warm-up: the first interval (JIT, pools, caches) is the baseline only for nothing.
const warm = rows.slice(1);
const first = warm[0] ?? rows[0];
const last = rows.at(-1);
const errors = rows.reduce((s, r) => s + r.errors, 0);
const total = rows.reduce((s, r) => s + r.requests, 0);
const rssGrowth = first && last ? (last.rss - first.rss) / first.rss : 0;
const p99Ratio = first && last && first.p99 > 0 ? last.p99 / first.p99 : 1;
const verdict = errors === 0 && rssGrowth < 0.1 && p99Ratio <= 2;
console.log(
  `soak result: requests=${total} errors=${errors} rss ${first?.rss.toFixed(1)} → ${last?.rss.toFixed(1)} MiB (${(rssGrowth * 100).toFixed(1)}%), p99 ${first?.p99.toFixed(0)} → ${last?.p99.toFixed(0)} ms (×${p99Ratio.toFixed(2)}): ${verdict ? 'PASS' : 'FAIL'}`,
);
console.log('| request | n | p50 ms | p99 ms |');
console.log('| ------- | -: | -----: | -----: |');
for (const [kind, list] of byKind) {
  console.log(`| ${kind} | ${list.length} | ${pct(list, 50).toFixed(1)} | ${pct(list, 99).toFixed(1)} |`);
}
if (errorsSeen.length) console.log(`errors: ${errorsSeen.join('\n')}`);
process.exit(verdict ? 0 : 1);
