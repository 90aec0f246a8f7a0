import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget report`: the Markdown projection, or grouped rows with --json/--group-by. */
export function registerReportCommand(budget: Command): void {
  budget
    .command('report')
    .description('projected vs actual spend: Markdown by default; --json rows grouped by --group-by')
    .option('--mission <m>', 'only this mission')
    .option('--from <when>', 'from this instant (inclusive)')
    .option('--to <when>', 'to this instant (exclusive)')
    .option(
      '--group-by <keys>',
      'comma-separated: day,week,month,mission,task,model,account,agent,host',
      'day',
    )
    .option('--timezone <zone>', 'zone for day/week/month and WHEN texts (default local)')
    .action(lazyAction(async () => (await import('./run.js')).run));
}
