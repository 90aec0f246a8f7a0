// Runs every scenario in this folder and prints the comparison tables of docs/simulation.md.
// Usage (from the repository root, after `pnpm build`): node docs/scenarios/run-all.mjs [--charts]
// With --charts it also writes <scenario>.svg beside each scenario.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  formatReport,
  renderPaceSvg,
  scenarioSchema,
  simulate,
} from '../../packages/budget-core/dist/index.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const charts = process.argv.includes('--charts');
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const scenario = scenarioSchema.parse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  const result = simulate(scenario);
  process.stdout.write(`### ${file}\n\n\`\`\`\n${formatReport(result.report)}\`\`\`\n\n`);
  if (charts) writeFileSync(join(dir, file.replace(/\.json$/, '.svg')), renderPaceSvg(result));
}
