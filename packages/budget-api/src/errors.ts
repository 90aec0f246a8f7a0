import type { ZodError } from 'zod';

/** Stable error codes of the service; docs/api.md has the table of what each means and how to fix it. */
export const ERROR_CODES = {
  BUDGET_ERR_VALIDATION: { status: 400, title: 'The request does not match the schema' },
  BUDGET_ERR_MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  BUDGET_ERR_URI_TOO_LONG: { status: 414, title: 'A path parameter is too long' },
  BUDGET_ERR_BODY_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  BUDGET_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be application/json' },
  BUDGET_ERR_UNAUTHENTICATED: { status: 401, title: 'A valid bearer token is required' },
  BUDGET_ERR_FORBIDDEN: { status: 403, title: 'The token lacks the scope this route needs' },
  BUDGET_ERR_RATE_LIMITED: {
    status: 429,
    title: 'Too many failed authentication attempts from this client; retry later',
  },
  BUDGET_ERR_NOT_FOUND: { status: 404, title: 'No such resource' },
  BUDGET_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  BUDGET_ERR_UNKNOWN_ACCOUNT: {
    status: 422,
    title: 'The record names an account the register does not know',
  },
  BUDGET_ERR_IDEMPOTENCY_CONFLICT: {
    status: 422,
    title: 'An idempotency key was reused with different content',
  },
  BUDGET_ERR_CONFLICT: { status: 409, title: 'The request conflicts with the current state' },
  BUDGET_ERR_RESERVATION_STATE: { status: 409, title: 'The reservation is not in a state that allows this' },
  BUDGET_ERR_DATABASE_UNAVAILABLE: { status: 503, title: 'The database is unreachable' },
  BUDGET_ERR_CONTENTION: { status: 503, title: 'Too many concurrent reservations raced; retry' },
  BUDGET_ERR_NO_PRICE: { status: 422, title: 'No price is known for the model; send usd' },
  BUDGET_ERR_NOT_READY: { status: 503, title: 'The service is not ready' },
  BUDGET_ERR_DATA_DIR_LOCKED: { status: 500, title: 'The data directory is locked by another process' },
  BUDGET_ERR_CORE_UNAVAILABLE: {
    status: 501,
    title: 'This needs a budget-core function that is not built yet',
  },
  BUDGET_ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const;

/** One of the service's stable error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem in a request, as listed in a problem document's `issues`. */
export interface ProblemIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

/** An RFC 9457 problem document as this service writes it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  issues?: ProblemIssue[];
  [extra: string]: unknown;
}

/** An error a caller can trigger: carries a stable code, an HTTP status and a clear message. */
export class BudgetApiError extends Error {
  /** The stable code. */
  readonly code: ErrorCode;
  /** The HTTP status it maps to. */
  readonly status: number;
  /** The zod (or similar) issues behind it, if any. */
  readonly issues: ProblemIssue[] | undefined;
  /** Extra members of the problem document (e.g. `holder` for a lock). */
  readonly extra: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { issues?: ProblemIssue[]; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'BudgetApiError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.issues = options.issues;
    this.extra = options.extra ?? {};
  }
}

/** Lists a zod error's issues in the form a problem document carries. */
export function zodIssues(error: ZodError): ProblemIssue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: i.message,
    code: i.code,
  }));
}

/** Builds the problem document for an error code. */
export function problem(
  code: ErrorCode,
  detail: string,
  more: { instance?: string; issues?: ProblemIssue[]; extra?: Record<string, unknown> } = {},
): Problem {
  const def = ERROR_CODES[code];
  return {
    type: `https://mosaic.dev/problems/${code
      .toLowerCase()
      .replace(/^budget_err_/, '')
      .replace(/_/g, '-')}`,
    title: def.title,
    status: def.status,
    detail,
    code,
    ...(more.instance ? { instance: more.instance } : {}),
    ...(more.issues ? { issues: more.issues } : {}),
    ...more.extra,
  };
}
