// Suite 5 and the CLI half of suite 7: `mosaic budget import claude-code` (local mode, embedded
// database) against `ccusage claude daily --json --offline` on the same generated transcripts.
// ccusage and its native binary are installed into bench/.work at run time, pinned to one version,
// never as a dependency of the project. Each run is timed with /usr/bin/time (wall time and peak RSS).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { QUICK, ROOT, WORK, median, run, runJson, saveResult } from '../lib.mjs';

const CCUSAGE_VERSION = '20.0.24';
const BIG_MB = QUICK ? 20 : 500;
const SMALL_MB = QUICK ? 5 : 125;
const REPEATS = QUICK ? 1 : 3;
const CLI = join(ROOT, 'packages', 'budget-cli', 'dist', 'bin.cjs');
const log = (...a) => console.error('[import]', ...a);

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

function importer(name) {
  const dataDir = join(WORK, `import-${name}-data`);
  const stateDir = join(WORK, `import-${name}-state`);
  const env = { MOSAIC_BUDGET_STATE_DIR: stateDir, NO_COLOR: '1', HOME: home };
  return {
    async fresh() {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
      await run(
        process.execPath,
        [
          CLI,
          'budget',
          '--data-dir',
          dataDir,
          'set',
          '--account',
          'max-a',
          '--provider',
          'anthropic',
          '--kind',
          'subscription',
          '--models',
          'claude-opus-4,claude-sonnet-4,claude-haiku-4',
        ],
        { env: { ...process.env, ...env } },
      );
    },
    run: (dir) =>
      timed(
        process.execPath,
        [
          CLI,
          'budget',
          '--data-dir',
          dataDir,
          '--json',
          'import',
          'claude-code',
          '--account',
          'max-a',
          '--path',
          dir,
        ],
        env,
      ),
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
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
const imp = importer('big');
await imp.fresh();
cc.push(await ccusage(bin, big.dir));
log('ccusage', cc.at(-1).seconds, 's', cc.at(-1).cpuSeconds, 's CPU', Math.round(cc.at(-1).peakMb), 'MB');
const first = await imp.run(big.dir);
const firstOut = JSON.parse(first.stdout);
log(
  'import first',
  first.seconds,
  's',
  first.cpuSeconds,
  's CPU',
  Math.round(first.peakMb),
  'MB',
  firstOut.inserted,
  'inserted',
);
const reruns = [];
for (let i = 0; i < REPEATS; i++) {
  cc.push(await ccusage(bin, big.dir));
  log('ccusage', cc.at(-1).seconds, 's');
  reruns.push(await imp.run(big.dir));
  log('import unchanged', reruns.at(-1).seconds, 's');
}
const appended = await big.gen('--append', '1');
cc.push(await ccusage(bin, big.dir));
const after = await imp.run(big.dir);
const afterOut = JSON.parse(after.stdout);
log('import after +1%', after.seconds, 's', after.cpuSeconds, 's CPU', afterOut.inserted, 'inserted');
await big.gen('--reset');
imp.cleanup();

// Memory: the first import of a corpus a quarter the size; streaming means the same peak.
const impSmall = importer('small');
await impSmall.fresh();
const smallFirst = await impSmall.run(small.dir);
log('import first (small)', smallFirst.seconds, 's', Math.round(smallFirst.peakMb), 'MB');
impSmall.cleanup();

const ccSeconds = median(cc.map((c) => c.seconds));
const ccCpu = median(cc.map((c) => c.cpuSeconds));
saveResult('import', {
  ccusageVersion: CCUSAGE_VERSION,
  corpus: {
    bigMb: bigInfo.bytes / 1048576,
    smallMb: smallInfo.bytes / 1048576,
    appendedMb: appended.added / 1048576,
  },
  ccusage: {
    seconds: ccSeconds,
    runs: cc.map((c) => c.seconds),
    cpuSeconds: ccCpu,
    peakMb: Math.max(...cc.map((c) => c.peakMb)),
  },
  first: {
    seconds: first.seconds,
    cpuSeconds: first.cpuSeconds,
    peakMb: first.peakMb,
    inserted: firstOut.inserted,
    entries: firstOut.entries,
    lines: firstOut.lines,
  },
  unchanged: {
    seconds: median(reruns.map((r) => r.seconds)),
    runs: reruns.map((r) => r.seconds),
    peakMb: Math.max(...reruns.map((r) => r.peakMb)),
  },
  appended: {
    seconds: after.seconds,
    cpuSeconds: after.cpuSeconds,
    peakMb: after.peakMb,
    inserted: afterOut.inserted,
  },
  smallFirst: { seconds: smallFirst.seconds, cpuSeconds: smallFirst.cpuSeconds, peakMb: smallFirst.peakMb },
  ratios: {
    first: first.seconds / ccSeconds,
    unchanged: median(reruns.map((r) => r.seconds)) / ccSeconds,
    appended: after.seconds / ccSeconds,
    peakBigOverSmall: first.peakMb / smallFirst.peakMb,
    peakOverCcusage: first.peakMb / Math.max(...cc.map((c) => c.peakMb)),
  },
  // The same time ratios in CPU seconds: ccusage's native binary uses both cores, the import mostly
  // one, so these read differently from the wall-time ratios the bars are set in.
  cpuRatios: {
    first: first.cpuSeconds / ccCpu,
    unchanged: median(reruns.map((r) => r.cpuSeconds)) / ccCpu,
    appended: after.cpuSeconds / ccCpu,
  },
});
log('done');
