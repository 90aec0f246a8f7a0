// Shared helpers of the bench suites: processes, databases, statistics, results.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Scratch space of the bench (git-ignored): generated data, ccusage, results. */
export const WORK = join(ROOT, 'bench', '.work');
/** Where each suite leaves its JSON result for the report. */
export const RESULTS = join(WORK, 'results');
/** The PostgreSQL server the bench creates its own databases in. */
export const PG_ADMIN_URL =
  process.env.MOSAIC_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Whether `--quick` (smaller sizes, shorter runs) was asked for. */
export const QUICK = process.argv.includes('--quick') || process.env.MOSAIC_BENCH_QUICK === '1';

// A fixed single-threaded JavaScript workload (objects built, a JSON round trip, a sort), run in a
// fresh Node process: machines of this kind have differed threefold in speed from one day to the
// next, so each suite's result records how long this took when it ran, and two runs' absolute
// figures can be read against each other.
const REFERENCE_SCRIPT = `
const t0 = performance.now();
let x = 1;
const rows = [];
for (let i = 0; i < 50000; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  rows.push({ id: 'r' + i, n: x, s: String(x % 9973) });
}
const back = JSON.parse(JSON.stringify(rows));
back.sort((a, b) => a.n - b.n);
let h = 0;
for (const r of back) h = (h * 31 + r.s.length + r.id.length) | 0;
process.stdout.write(String(performance.now() - t0) + ' ' + h + '\\n');
`;

/** Milliseconds the reference workload takes on this machine now (median of three fresh processes). */
export function referenceMs() {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(process.execPath, ['-e', REFERENCE_SCRIPT], { encoding: 'utf8' });
    runs.push(Number(out.split(' ')[0]));
  }
  return median(runs);
}

/** The machine the figures come from. */
export function machine() {
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    load = 'unknown';
  }
  let pgVersion = 'unknown';
  try {
    pgVersion = execFileSync('psql', [PG_ADMIN_URL, '-Atc', 'show server_version'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    /* reported as unknown */
  }
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    postgres: pgVersion,
    loadavg: load,
    referenceMs: referenceMs(),
    at: new Date().toISOString(),
  };
}

/** Median of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Writes a suite's result where the report finds it. */
export function saveResult(suite, data) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, `${suite}.json`),
    JSON.stringify({ suite, quick: QUICK, machine: machine(), ...data }, null, 2),
  );
}

/** A database URL on the bench server. */
export function dbUrl(name) {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops and creates a database (bench databases only: their names start with `bench_`). */
export async function freshDb(name) {
  if (!name.startsWith('bench_')) throw new Error(`refusing to recreate ${name}: not a bench database`);
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  await c.query(`drop database if exists ${name} with (force)`);
  await c.query(`create database ${name}`);
  await c.end();
  return dbUrl(name);
}

/** Runs SQL on a database and returns the rows. */
export async function query(url, text, params = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** Runs a process to completion; resolves with its stdout (rejects on a non-zero exit). */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve({ stdout: out, stderr: err })
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`)),
    );
  });
}

/** Runs a node script that prints one JSON line; resolves with the parsed object. */
export async function runJson(script, args, options = {}) {
  const { stdout } = await run(process.execPath, [script, ...args], { cwd: ROOT, ...options });
  const line = stdout.trim().split('\n').filter(Boolean).pop();
  return JSON.parse(line);
}

/** Starts the bench server (bench/server.mjs) and waits for its ready line. */
export function startServer(args, nodeArgs = []) {
  // A suite run on its own, in a fresh clone, must not depend on another suite having made the scratch dir.
  mkdirSync(WORK, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bench', 'server.mjs'), ...args], {
      cwd: WORK,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        const info = JSON.parse(line);
        resolve({
          ...info,
          child,
          rss: () => procStatus(child.pid),
          stop: () =>
            new Promise((res) => {
              if (child.exitCode !== null) return res();
              child.once('exit', () => res());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`bench server exited ${code}: ${err.slice(-2000)}`)));
  });
}

// Clock ticks per second of /proc/<pid>/stat's CPU fields (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND = 100;

/** CPU ms (user + system) a process has used, or 0 once it is gone. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU ms of every PostgreSQL process, by pid (backends come and go: compare pid by pid). */
function postgresCpu() {
  const out = new Map();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('postgres')) out.set(p, cpuMs(p));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

/** The machine's CPU ticks since boot from /proc/stat's first line: busy, idle (with I/O wait), stolen. */
function machineTicks() {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/**
 * Runs `work` and reads, from /proc before and after it, the CPU ms the process `pid` used, the
 * CPU ms all PostgreSQL processes used (background ones included: they work for whatever wrote), and
 * how busy the whole machine was: `busyCores`, the number of cores kept busy on average (the load
 * generator included; time the hypervisor took counts in the whole, not as busy).
 */
export async function cpuDuring(pid, work) {
  const service0 = cpuMs(pid);
  const postgres0 = postgresCpu();
  const machine0 = machineTicks();
  const result = await work();
  const serviceMs = cpuMs(pid) - service0;
  const machine1 = machineTicks();
  let postgresMs = 0;
  for (const [p, t] of postgresCpu()) postgresMs += t - (postgres0.get(p) ?? 0);
  const busy = machine1.busy - machine0.busy;
  const all = busy + machine1.steal - machine0.steal + machine1.idle - machine0.idle;
  const cores = availableParallelism();
  return {
    result,
    serviceMs,
    postgresMs,
    busyCores: all > 0 ? (busy / all) * cores : 0,
  };
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
export function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/**
 * POSTs JSON to one of the bench server's own routes (`/bench/profile/start`, `/bench/heap` …) and
 * returns its answer; a refusal is an error naming the route, not a silently missing profile.
 */
export async function benchCall(server, path, body = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Runs autocannon from a second process against a running bench server. */
export function load(server, route, shape, seconds, connections = 32, accounts = 100) {
  return runJson(join(ROOT, 'bench', 'load.mjs'), [
    '--url',
    server.url,
    '--token',
    server.token,
    '--route',
    route,
    '--shape',
    shape,
    '--seconds',
    String(seconds),
    '--connections',
    String(connections),
    '--accounts',
    String(accounts),
  ]);
}

/** Loads each route briefly before anything is measured: JIT, pools and the config cache warm up. */
export async function warmUp(server, routes, seconds = 2) {
  for (const route of routes) await load(server, route, 'spread', seconds, 8);
}

/**
 * VACUUMs every table of a bench database before a measure, as pgbench does before its runs. The
 * machine's PostgreSQL runs with autovacuum off (its conf.d sets it for CI), so without this each
 * measure would inherit the dead rows of every measure before it and the figures would depend on
 * their order rather than on the code. Without a table list, the whole database.
 */
export async function vacuum(url, tables = GATE_TABLES) {
  await query(url, tables.length > 0 ? `vacuum ${tables.join(', ')}` : 'vacuum');
}

/** The tables the gate's load updates (the ledger is append-only and needs no vacuum between measures). */
export const GATE_TABLES = [
  'fleet.period_totals',
  'fleet.window_state',
  'fleet.inflight',
  'fleet.reservations',
  'fleet.gate_decisions',
  'fleet.queue_entries',
  'fleet.tenants',
  'fleet.api_tokens',
];

/** Runs pgbench with a custom script; returns transactions per second (excluding connection setup). */
export async function pgbench(url, script, clients, seconds) {
  const file = join(WORK, `pgbench-${clients}-${Math.random().toString(36).slice(2)}.sql`);
  writeFileSync(file, script);
  const u = new URL(url);
  let stdout;
  try {
    ({ stdout } = await run('pgbench', [
      '-n',
      '-f',
      file,
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, 2)),
      '-T',
      String(seconds),
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username || 'postgres'),
      u.pathname.slice(1),
    ]));
  } finally {
    // One script per measure: a full run used to leave two dozen of them in bench/.work.
    rmSync(file, { force: true });
  }
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
  const lat = /latency average = ([\d.]+) ms/.exec(stdout)?.[1];
  // A pgbench whose report changed shape would otherwise show as "n/a" in the tables, unnoticed.
  if (tps === undefined) throw new Error(`pgbench printed no tps figure:\n${stdout}`);
  return { tps: Number(tps), latencyAvgMs: Number(lat) };
}

/** Formats a number for the report. */
export function fmt(x, digits = 0) {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  return Number(x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
