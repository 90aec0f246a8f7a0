/**
 * A user-supplied text the parsers cannot read. `code` is stable (`BUDGET_ERR_…`) so the CLI can map it
 * to an exit status; the message says what was wrong and what would be accepted instead.
 */
export class ParseInputError extends Error {
  /** A stable error code, e.g. `BUDGET_ERR_INVALID_WHEN`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ParseInputError';
    this.code = code;
  }
}
