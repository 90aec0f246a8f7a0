/**
 * Exit statuses of `mosaic budget`. Scripts branch on them, so they are a contract (docs/cli.md):
 * 0 success (and gate allow/downgrade/reroute), 1 unexpected failure, 2 bad flags or input,
 * 3 gate queued, 4 gate refused, 5 the service refused the request, 6 the service or database is
 * unavailable (unreachable, or the data directory is locked by another process).
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  queue: 3,
  refuse: 4,
  rejected: 5,
  unavailable: 6,
} as const;

/** One of the {@link EXIT} statuses. */
export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user can fix: a stable code, what was wrong, and a hint on how to fix it. */
export class CliError extends Error {
  /** A stable `BUDGET_ERR_…` code. */
  readonly code: string;
  /** The process exit status this error maps to. */
  readonly exitStatus: ExitStatus;
  /** How to fix it, in one sentence. */
  readonly hint: string | undefined;
  /** Extra machine-readable detail for `--json` output. */
  readonly details: unknown;

  constructor(
    code: string,
    message: string,
    options: { exit?: ExitStatus; hint?: string; details?: unknown } = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitStatus = options.exit ?? EXIT.failure;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** A flag, argument or input file that does not parse: exit 2, nothing changed. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string, details?: unknown) {
    super('BUDGET_ERR_USAGE', message, { exit: EXIT.usage, ...(hint ? { hint } : {}), details });
    this.name = 'UsageError';
  }
}

/** The service answered with a problem document (4xx/5xx). */
export class ApiError extends CliError {
  /** The HTTP status of the answer. */
  readonly status: number;

  constructor(status: number, code: string, message: string, details?: unknown) {
    const exit = status === 503 || code === 'BUDGET_ERR_DATA_DIR_LOCKED' ? EXIT.unavailable : EXIT.rejected;
    super(code, message, { exit, details, ...(hintFor(code) ? { hint: hintFor(code) } : {}) });
    this.name = 'ApiError';
    this.status = status;
  }
}

function hintFor(code: string): string | undefined {
  switch (code) {
    case 'BUDGET_ERR_UNAUTHENTICATED':
      return 'pass --token (or set MOSAIC_BUDGET_TOKEN); create one with `mosaic budget token create`';
    case 'BUDGET_ERR_FORBIDDEN':
      return 'use a token with the scope the command needs (see docs/cli.md)';
    case 'BUDGET_ERR_UNKNOWN_ACCOUNT':
      return 'create the account first: `mosaic budget set --account A --provider P --kind subscription|api --models m1,m2`';
    case 'BUDGET_ERR_DATABASE_UNAVAILABLE':
    case 'BUDGET_ERR_NOT_READY':
      return 'retry in a few seconds; nothing was written';
    default:
      return undefined;
  }
}
