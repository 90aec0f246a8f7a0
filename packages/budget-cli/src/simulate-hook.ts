import type { Command } from 'commander';

/**
 * Mounts `budget simulate` from commands/simulate (built by the simulator's owner). Until that
 * command exists this registers nothing, so the rest of the CLI builds and ships without it.
 */
export function registerSimulate(_budget: Command): void {}
