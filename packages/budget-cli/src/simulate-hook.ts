import type { Command } from 'commander';
import { registerSimulateCommand } from './commands/simulate/index.js';

/** Mounts `budget simulate`, built by the simulator's owner in commands/simulate. */
export function registerSimulate(budget: Command): void {
  registerSimulateCommand(budget);
}
