// Suite 5 and the CLI half of suite 7: `mosaic budget import claude-code` against
// `ccusage claude daily --json --offline` on the same generated transcripts, in the CLI's two modes:
// against a running service on PostgreSQL (`mosaic budget serve`, as a fleet runs it; the import
// talks to it over HTTP) and local (the embedded database opened by the import itself).
// ccusage and its native binary are installed into bench/.work at run time, pinned to one version,
// never as a dependency of the project. Each run is timed with /usr/bin/time (wall time and peak RSS).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { QUICK, ROOT, WORK, cpuDuring, freshDb, median, query, run, runJson, saveResult } from '../lib.mjs';

const CCUSAGE_VERSION = '20.0.24';
const BIG_MB = QUICK ? 20 : 500;
const SMALL_MB = QUICK ? 5 : 125;
const REPEATS = QUICK ? 1 : 3;
// First imports per mode, each into a fresh destination: a first import against the service moves by
// ±15 % between runs on this shared 2-core machine (PostgreSQL's CPU alone by up to a fifth), so the
// table reports the median, as it does for ccusage.
const FIRST_RUNS = QUICK ? 1 : 3;
// Re-runs after appending 1 %: a single one moved by a fifth between runs of one build.
const APPEND_RUNS = QUICK ? 1 : 3;
const CLI = join(ROOT, 'packages', 'budget-cli', 'dist', 'bin.cjs');
const log = (...a) => console.error('[import]', ...a);
// The account every import writes to, created the same way in both modes, and the import itself.
const SET_ACCOUNT = [
  'set',
  '--account',
  'max-a',
  '--provider',
  'anthropic',
  '--kind',
  'subscription',
  '--models',
  'claude-opus-4,claude-sonnet-4,claude-haiku-4',
];
const IMPORT = ['--json', 'import', 'claude-code', '--account', 'max-a', '--path'];
// Batches the service ingests before it is measured, as in suite 4.
const WARM_UP_BATCHES = 5;

async function ensureCcusage() {
  const bin = join(WORK, 'node_modules', '.bin', 'ccusage');
  if (existsSync(bin)) {
    const { stdout } = await run(bin, ['--version']).catch(() => ({ stdout: '' }));
    if (stdout.includes(CCUSAGE_VERSION)) return bin;
  }
  log(`installing ccusage@${CCUSAGE_VERSION} into bench/.work`);
  await run('npm', [
    'install',
    '--prefix',
    WORK,
    '--no-save',
    '--no-audit',
    '--no-fund',
    `ccusage@${CCUSAGE_VERSION}`,
    `@ccusage/ccusage-linux-x64@${CCUSAGE_VERSION}`,
  ]);
  return bin;
}

function corpus(mb) {
  const dir = join(WORK, `claude-${mb}mb`);
  return {
    dir,
    gen: (...args) =>
      runJson(join(ROOT, 'bench', 'gen-transcripts.mjs'), ['--out', dir, '--mb', String(mb), ...args]),
  };
}

/**
 * Runs a command under /usr/bin/time; returns wall seconds, CPU seconds (user + system, which a busy
 * shared machine disturbs less than wall time) and peak RSS in MB.
 */
async function timed(cmd, args, env) {
  const { stderr, stdout } = await run('/usr/bin/time', ['-f', 'BENCHTIME %e %M %U %S', cmd, ...args], {
    env: { ...process.env, ...env },
    cwd: WORK,
  });
  const m = /BENCHTIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  return {
    seconds: Number(m[1]),
    peakMb: Number(m[2]) / 1024,
    cpuSeconds: Number(m[3]) + Number(m[4]),
    stdout,
  };
}

const home = join(WORK, 'home');
mkdirSync(home, { recursive: true });

function ccusage(bin, dir) {
  // HOME points at an empty directory, so ccusage reads only the generated corpus.
  return timed(bin, ['claude', 'daily', '--json', '--offline'], {
    HOME: home,
    CLAUDE_CONFIG_DIR: dir,
    NO_COLOR: '1',
  });
}

/** Copies an import's state aside; the function returned puts that copy back. */
function holdState(stateDir, copyDir) {
  rmSync(copyDir, { recursive: true, force: true });
  cpSync(stateDir, copyDir, { recursive: true });
  return () => {
    rmSync(stateDir, { recursive: true, force: true });
    cpSync(copyDir, stateDir, { recursive: true });
  };
}

function importer(name) {
  const dataDir = join(WORK, `import-${name}-data`);
  const stateDir = join(WORK, `import-${name}-state`);
  const env = { MOSAIC_BUDGET_STATE_DIR: stateDir, NO_COLOR: '1', HOME: home };
  return {
    async fresh() {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
      await run(process.execPath, [CLI, 'budget', '--data-dir', dataDir, ...SET_ACCOUNT], {
        env: { ...process.env, ...env },
      });
    },
    run: (dir) => timed(process.execPath, [CLI, 'budget', '--data-dir', dataDir, ...IMPORT, dir], env),
    saveState: (copyDir) => holdState(stateDir, copyDir),
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * `mosaic budget serve` on a fresh PostgreSQL database, started as an operator would (the CLI's own
 * command, a bootstrap token from the environment); resolves once it prints where it listens.
 */
async function startService(dbName) {
  const databaseUrl = await freshDb(dbName);
  const token = `mbt_${randomBytes(24).toString('hex')}`;
  const child = spawn(
    process.execPath,
    [CLI, 'budget', '--json', 'serve', '--port', '0', '--database-url', databaseUrl, '--log-level', 'warn'],
    { cwd: WORK, env: { ...process.env, BUDGET_BOOTSTRAP_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line);
        if (event.event === 'listening') resolve(event.url);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err.slice(-2000)}`)));
  });
  return {
    child,
    url,
    token,
    databaseUrl,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

/** The import against a running service on PostgreSQL: the service is up before and between runs. */
function serviceImporter(name) {
  const dbName = `bench_import_${name}`;
  const stateDir = join(WORK, `import-service-${name}-state`);
  let service;
  const env = () => ({
    MOSAIC_BUDGET_STATE_DIR: stateDir,
    MOSAIC_BUDGET_URL: service.url,
    MOSAIC_BUDGET_TOKEN: service.token,
    NO_COLOR: '1',
    HOME: home,
  });
  return {
    async fresh() {
      await service?.stop();
      rmSync(stateDir, { recursive: true, force: true });
      service = await startService(dbName);
      await run(process.execPath, [CLI, 'budget', ...SET_ACCOUNT], { env: { ...process.env, ...env() } });
      await this.warmUp();
    },
    /**
     * A running service has long compiled its ingest path; one started for the suite has not. Like
     * suite 4, it gets batches first: {@link WARM_UP_BATCHES} of 1,000 synthetic records into an
     * account of their own, with keys no transcript line has.
     */
    async warmUp() {
      await run(process.execPath, [CLI, 'budget', ...SET_ACCOUNT.with(2, 'warm-up')], {
        env: { ...process.env, ...env() },
      });
      const at = new Date().toISOString();
      for (let b = 0; b < WARM_UP_BATCHES; b++) {
        const records = Array.from({ length: 1000 }, (_, i) => ({
          host: 'bench',
          agent: 'claude-code',
          task: `warm-up-${b}`,
          taskClass: 'feature',
          provider: 'anthropic',
          account: 'warm-up',
          model: 'claude-sonnet-4',
          inputTokens: 1000 + i,
          outputTokens: 200,
          cacheReadTokens: 5000,
          cacheWriteTokens: 100,
          usd: '0.0123',
          kind: 'actual',
          occurredAt: at,
          idempotencyKey: `warm-up:${b}:${i}`,
        }));
        const res = await fetch(`${service.url}/v1/spend`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${service.token}` },
          body: JSON.stringify({ records }),
        });
        if (res.status !== 200) throw new Error(`warm-up batch answered ${res.status}: ${await res.text()}`);
      }
    },
    /** One import, with the CPU the service and PostgreSQL spent meanwhile. */
    async run(dir) {
      const { result, serviceMs, postgresMs } = await cpuDuring(service.child.pid, () =>
        timed(process.execPath, [CLI, 'budget', ...IMPORT, dir], env()),
      );
      return { ...result, serviceCpuSeconds: serviceMs / 1000, postgresCpuSeconds: postgresMs / 1000 };
    },
    saveState: (copyDir) => holdState(stateDir, copyDir),
    async ledgerRows() {
      const [row] = await query(
        service.databaseUrl,
        "select count(*)::int as n from fleet.spend_ledger where account_id = 'max-a'",
      );
      return row.n;
    },
    async cleanup() {
      await service?.stop();
      service = undefined;
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

const bin = await ensureCcusage();
const big = corpus(BIG_MB);
const small = corpus(SMALL_MB);
log('generating', BIG_MB, 'MB and', SMALL_MB, 'MB of transcripts (reused when present)');
const bigInfo = await big.gen();
const smallInfo = await small.gen();

const cc = [];
const ccRun = async () => {
  cc.push(await ccusage(bin, big.dir));
  log('ccusage', cc.at(-1).seconds, 's', cc.at(-1).cpuSeconds, 's CPU', Math.round(cc.at(-1).peakMb), 'MB');
};
const local = importer('big');
const service = serviceImporter('big');
const modes = { service, local };
const out = { service: {}, local: {} };
const logRun = (mode, what, r) =>
  log(
    mode,
    what,
    r.seconds,
    's',
    r.cpuSeconds,
    's CPU',
    Math.round(r.peakMb),
    'MB',
    ...(r.serviceCpuSeconds !== undefined
      ? ['service', r.serviceCpuSeconds, 's CPU, PostgreSQL', r.postgresCpuSeconds, 's CPU']
      : []),
  );

// Each import of one kind runs between two ccusage runs, the modes one after the other.
for (const mode of Object.keys(modes)) out[mode].firsts = [];
for (let i = 0; i < FIRST_RUNS; i++) {
  for (const [mode, imp] of Object.entries(modes)) {
    await imp.fresh();
    await ccRun();
    const first = await imp.run(big.dir);
    logRun(mode, 'first', first);
    out[mode].firsts.push({ ...first, summary: JSON.parse(first.stdout) });
  }
}
// The run of median time stands for the mode (its CPU and memory are reported with it).
for (const mode of Object.keys(modes)) {
  const bySeconds = [...out[mode].firsts].sort((a, b) => a.seconds - b.seconds);
  out[mode].first = bySeconds[(bySeconds.length - 1) >> 1];
}
out.service.ledgerRows = await service.ledgerRows();
// Both modes read the same files: every first import must have written the same entries, and the
// service's ledger must hold what its (last) import said it inserted.
const inserted = new Set(Object.values(out).flatMap((m) => m.firsts.map((f) => f.summary.inserted)));
if (inserted.size !== 1) throw new Error(`the first imports inserted ${[...inserted].join(', ')} rows`);
if (out.service.ledgerRows !== out.service.first.summary.inserted)
  throw new Error(
    `the service's ledger holds ${out.service.ledgerRows} rows, its import inserted ${out.service.first.summary.inserted}`,
  );
for (const mode of Object.keys(modes)) out[mode].reruns = [];
for (let i = 0; i < REPEATS; i++) {
  await ccRun();
  for (const [mode, imp] of Object.entries(modes)) {
    out[mode].reruns.push(await imp.run(big.dir));
    logRun(mode, 'unchanged', out[mode].reruns.at(-1));
  }
}
// The incremental case, APPEND_RUNS times: each round appends other turns of the same size to the
// same files and starts from the state the unchanged runs left (the import's offsets and keys are
// put back; the ledger keeps the earlier rounds' rows, a fraction of a per cent more).
for (const mode of Object.keys(modes)) out[mode].afters = [];
const heldState = Object.fromEntries(
  Object.entries(modes).map(([mode, imp]) => [mode, imp.saveState(join(WORK, `import-${mode}-state-held`))]),
);
let appended;
for (let round = 0; round < APPEND_RUNS; round++) {
  appended = await big.gen('--append', '1', '--round', String(round));
  for (const [mode, imp] of Object.entries(modes)) {
    await ccRun();
    const after = await imp.run(big.dir);
    logRun(mode, `after +1% (round ${round + 1})`, after);
    out[mode].afters.push({ ...after, summary: JSON.parse(after.stdout) });
  }
  await big.gen('--reset');
  for (const restore of Object.values(heldState)) restore();
}
for (const mode of Object.keys(modes))
  rmSync(join(WORK, `import-${mode}-state-held`), { recursive: true, force: true });
// Both modes read the same appended turns in each round: each must have written the same rows.
for (let round = 0; round < APPEND_RUNS; round++) {
  const rows = new Set(Object.values(out).map((m) => m.afters[round].summary.inserted));
  if (rows.size !== 1 || rows.has(0))
    throw new Error(`round ${round + 1} after appending 1 % inserted ${[...rows].join(', ')} rows`);
}
for (const mode of Object.keys(modes)) {
  const bySeconds = [...out[mode].afters].sort((a, b) => a.seconds - b.seconds);
  out[mode].after = bySeconds[(bySeconds.length - 1) >> 1];
}
await local.cleanup();
await service.cleanup();

// Memory: the first import of a corpus a quarter the size; streaming means the same peak.
for (const [mode, make] of [
  ['service', serviceImporter],
  ['local', importer],
]) {
  const imp = make('small');
  await imp.fresh();
  out[mode].smallFirst = await imp.run(small.dir);
  logRun(mode, 'first (small)', out[mode].smallFirst);
  await imp.cleanup();
}

const ccSeconds = median(cc.map((c) => c.seconds));
const ccCpu = median(cc.map((c) => c.cpuSeconds));
const ccPeak = Math.max(...cc.map((c) => c.peakMb));

/** One mode's figures and its ratios to ccusage. */
function modeResult(m) {
  const unchanged = median(m.reruns.map((r) => r.seconds));
  const cpu = (r) => ({
    cpuSeconds: r.cpuSeconds,
    ...(r.serviceCpuSeconds !== undefined
      ? { serviceCpuSeconds: r.serviceCpuSeconds, postgresCpuSeconds: r.postgresCpuSeconds }
      : {}),
  });
  return {
    first: {
      seconds: m.first.seconds,
      runs: m.firsts.map((f) => f.seconds),
      ...cpu(m.first),
      peakMb: m.first.peakMb,
      inserted: m.first.summary.inserted,
      entries: m.first.summary.entries,
      lines: m.first.summary.lines,
    },
    unchanged: {
      seconds: unchanged,
      runs: m.reruns.map((r) => r.seconds),
      peakMb: Math.max(...m.reruns.map((r) => r.peakMb)),
    },
    appended: {
      seconds: m.after.seconds,
      runs: m.afters.map((a) => a.seconds),
      ...cpu(m.after),
      peakMb: m.after.peakMb,
      inserted: m.after.summary.inserted,
    },
    smallFirst: {
      seconds: m.smallFirst.seconds,
      cpuSeconds: m.smallFirst.cpuSeconds,
      peakMb: m.smallFirst.peakMb,
    },
    ratios: {
      first: m.first.seconds / ccSeconds,
      unchanged: unchanged / ccSeconds,
      appended: m.after.seconds / ccSeconds,
      peakBigOverSmall: m.first.peakMb / m.smallFirst.peakMb,
      peakOverCcusage: m.first.peakMb / ccPeak,
    },
    // The same time ratios in CPU seconds: ccusage's native binary uses both cores, the import mostly
    // one, so these read differently from the wall-time ratios the bars are set in.
    cpuRatios: {
      first: m.first.cpuSeconds / ccCpu,
      unchanged: median(m.reruns.map((r) => r.cpuSeconds)) / ccCpu,
      appended: m.after.cpuSeconds / ccCpu,
    },
  };
}

saveResult('import', {
  ccusageVersion: CCUSAGE_VERSION,
  corpus: {
    bigMb: bigInfo.bytes / 1048576,
    smallMb: smallInfo.bytes / 1048576,
    appendedMb: appended.added / 1048576,
  },
  ccusage: { seconds: ccSeconds, runs: cc.map((c) => c.seconds), cpuSeconds: ccCpu, peakMb: ccPeak },
  service: { ...modeResult(out.service), ledgerRows: out.service.ledgerRows },
  local: modeResult(out.local),
});
log('done');
