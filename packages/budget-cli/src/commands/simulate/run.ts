import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  STRATEGIES,
  SimulationError,
  formatReport,
  renderPaceSvg,
  scenarioSchema,
  simulate,
  type Strategy,
} from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { CliError, EXIT, UsageError } from '../../errors.js';
import { parseFlags } from '../../flags.js';

const flagsSchema = z.object({
  chart: z.string().min(1).optional(),
  strategy: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const names = s.split(',').map((n) => n.trim());
      for (const n of names) {
        if (!(STRATEGIES as readonly string[]).includes(n)) {
          ctx.addIssue({ code: 'custom', message: `"${n}" is not one of ${STRATEGIES.join(', ')}` });
          return z.NEVER;
        }
      }
      return names as Strategy[];
    }),
});

async function loadScenario(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the scenario ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CliError(
      'BUDGET_ERR_INVALID_SCENARIO',
      `${file} is not a valid scenario: ${lines.join('; ')}`,
      {
        exit: EXIT.usage,
        hint: 'see docs/simulation.md for the scenario format',
        details: { issues: parsed.error.issues },
      },
    );
  }
  return parsed.data;
}

/** Reads the scenario, simulates it, prints the table (or JSON) and writes the chart when asked. */
export const run: Runner = async (ctx, raw, args) => {
  const f = parseFlags(flagsSchema, raw);
  const file = args[0];
  if (file === undefined) throw new UsageError('missing <scenario.json>');
  const scenario = await loadScenario(file);
  let result;
  try {
    result = simulate(scenario, f.strategy ? { strategies: f.strategy } : {});
  } catch (error) {
    if (error instanceof SimulationError) {
      throw new CliError(error.code, error.message, { exit: EXIT.usage });
    }
    throw error;
  }
  if (f.chart !== undefined) {
    try {
      await writeFile(f.chart, renderPaceSvg(result), 'utf8');
    } catch (error) {
      throw new CliError(
        'BUDGET_ERR_WRITE_FAILED',
        `cannot write the chart ${f.chart}: ${(error as Error).message}`,
      );
    }
  }
  if (ctx.json) {
    ctx.printJson(result.report);
  } else {
    ctx.print(formatReport(result.report));
    if (f.chart !== undefined) ctx.print(`chart written to ${f.chart}`);
  }
  return EXIT.ok;
};
