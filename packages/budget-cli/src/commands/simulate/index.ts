import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget simulate`: play a scenario under the real gate and two baselines. */
export function registerSimulateCommand(budget: Command): void {
  budget
    .command('simulate')
    .description(
      'run a scenario file through the pacing engine, greedy and a static daily cap; print the comparison',
    )
    .argument('<scenario.json>', 'scenario file (format: docs/simulation.md)')
    .option('--chart <file.svg>', 'also write a pace chart: ideal line and actual usage per account window')
    .option('--strategy <names>', 'comma-separated subset of paced,greedy,static-daily-cap')
    .action(lazyAction(async () => (await import('./run.js')).run));
}
