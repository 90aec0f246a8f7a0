// `pnpm bench`: runs every suite (or `--only decide,gate,ledger,ingest,import,statusline`), each as its own
// process, then rewrites the generated part of docs/benchmarks.md from the results.
//   node bench/run.mjs [--quick] [--only gate,ingest] [--no-report]
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';
import { writeReport } from './report.mjs';

const SUITES = ['decide', 'gate', 'ledger', 'ingest', 'import', 'statusline'];
const args = process.argv.slice(2);
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg
  ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',')
  : SUITES;
const pass = args.filter((a) => a === '--quick' || a === '--fresh-ledger');

for (const name of only) {
  if (!SUITES.includes(name)) throw new Error(`unknown suite "${name}" (one of ${SUITES.join(', ')})`);
}

const started = Date.now();
for (const name of only) {
  const t0 = Date.now();
  console.error(`\n== suite ${name} ${pass.join(' ')}`);
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'suites', `${name}.mjs`), ...pass], {
      stdio: 'inherit',
      cwd: ROOT,
    });
    child.on('close', resolve);
  });
  console.error(`== suite ${name} finished in ${Math.round((Date.now() - t0) / 1000)} s (exit ${code})`);
  if (code !== 0) process.exitCode = 1;
}
console.error(`\nall suites: ${Math.round((Date.now() - started) / 1000)} s`);
if (!args.includes('--no-report')) {
  writeReport();
  // The generated tables are formatted like every other file, so `prettier --check .` stays clean.
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'prettier'),
    ['--write', join(ROOT, 'docs', 'benchmarks.md')],
    { stdio: 'ignore' },
  );
  console.error('docs/benchmarks.md updated');
}
