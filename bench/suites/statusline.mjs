// Suite 8: `mosaic budget statusline`, the command Claude Code runs on every prompt, against bare
// `node -e 0` on the same machine at the same moment. Each run is one process under /usr/bin/time
// (wall, user and system time) with the status-line fixture on stdin; the commands take turns, so
// a change in the machine's load falls on all of them alike. Remote mode posts to the real service
// (bench/server.mjs on PGlite); local mode writes a spool file in a scratch data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { QUICK, ROOT, WORK, median, saveResult, startServer } from '../lib.mjs';

const RUNS = QUICK ? 10 : 40;
const WARMUP = 3;
const CLI = join(ROOT, 'packages', 'budget-cli', 'dist', 'bin.cjs');
const log = (...a) => console.error('[statusline]', ...a);

/** Claude Code's status-line JSON with resets ahead of now, so every segment has a pace. */
function input() {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    session_id: 'bench',
    model: { id: 'claude-sonnet-4-5', display_name: 'Sonnet 4.5' },
    rate_limits: {
      five_hour: { used_percentage: 23.5, resets_at: now + 3 * 3600 },
      seven_day: { used_percentage: 41.2, resets_at: now + 4 * 86_400 },
    },
  });
}

/**
 * One process under /usr/bin/time with `json` written to its stdin through a pipe, as Claude Code
 * sends it (a pipe, unlike a file, makes the command load Node's `net` for its stdin): wall and CPU
 * (user + system) ms, and its stdout.
 */
function timed(args, json) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'BENCHTIME %U %S', process.execPath, ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: WORK, NO_COLOR: '1' },
    });
    // A command that exits without reading its stdin (node -e 0) closes the pipe under the write.
    child.stdin.on('error', () => {});
    child.stdin.end(json);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      // Wall time from the clock here (time's %e has 10 ms steps); CPU from time's %U and %S.
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const m = /BENCHTIME ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`${args.join(' ')} exited ${code}: ${err}`));
      resolve({ wallMs, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, stdout: out });
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'bench-statusline-'));
const stdinJson = input();
const server = await startServer(['--accounts', '1']);
try {
  const put = await fetch(`${server.url}/v1/accounts/max-a`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'anthropic',
      kind: 'subscription',
      models: ['claude-sonnet-4-5'],
      windows: [
        { name: 'session', length: 'PT5H', rolling: true },
        { name: 'weekly', length: 'P7D' },
      ],
    }),
  });
  if (!put.ok) throw new Error(`creating the account: HTTP ${put.status} ${await put.text()}`);
  const commands = {
    'node -e 0': ['-e', '0'],
    'statusline, remote (POST to the service)': [
      CLI,
      'budget',
      '--api',
      server.url,
      '--token',
      server.token,
      'statusline',
      '--account',
      'max-a',
    ],
    'statusline, local (spool file)': [
      CLI,
      'budget',
      '--data-dir',
      join(scratch, 'data'),
      'statusline',
      '--account',
      'max-a',
    ],
  };
  const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  // The service's first requests compile its routes; the status line's 400 ms timeout is for a
  // service that hangs, not for one warming up.
  for (let i = 0; i < 5; i++) {
    const signals = JSON.parse(input()).rate_limits;
    const res = await fetch(`${server.url}/v1/usage-signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        signals: [
          {
            account: 'max-a',
            window: 'session',
            usedPercent: String(signals.five_hour.used_percentage),
            observedAt: new Date().toISOString(),
          },
        ],
      }),
    });
    if (!res.ok) throw new Error(`warming the service: HTTP ${res.status} ${await res.text()}`);
  }
  const degraded = Object.fromEntries(Object.keys(commands).map((k) => [k, 0]));
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const [name, args] of Object.entries(commands)) {
      const r = await timed(args, stdinJson);
      if (name.startsWith('statusline') && !r.stdout.includes('5h 23.5%')) {
        throw new Error(`${name} printed no status line: ${r.stdout}`);
      }
      if (i < WARMUP) continue;
      samples[name].push(r);
      // A run whose recording failed (a timeout on an overloaded machine) is counted and reported.
      if (r.stdout.includes('(budget:')) degraded[name] += 1;
    }
  }
  const base = samples['node -e 0'];
  const rows = Object.entries(samples).map(([name, xs]) => ({
    command: name,
    wallP50: median(xs.map((x) => x.wallMs)),
    wallMin: Math.min(...xs.map((x) => x.wallMs)),
    cpuP50: median(xs.map((x) => x.cpuMs)),
    // Paired with the baseline run of the same turn, so both saw the same load.
    overWallP50: median(xs.map((x, i) => x.wallMs - base[i].wallMs)),
    overCpuP50: median(xs.map((x, i) => x.cpuMs - base[i].cpuMs)),
    degraded: degraded[name],
  }));
  for (const r of rows) log(JSON.stringify(r));
  saveResult('statusline', { runs: RUNS, rows });
} finally {
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
}
