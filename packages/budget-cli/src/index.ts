// The public door of @mosaic/budget-cli: mount `budget` on a larger commander program, or run it.
export { registerBudgetCommand } from './budget-command.js';
export { main, reportError } from './main.js';
export { EXIT, CliError, UsageError, ApiError } from './errors.js';
export type { ExitStatus } from './errors.js';
export type { Transport, ApiResponse } from './transport/transport.js';
export { remoteTransport } from './transport/remote.js';
