// A light entry point for status-line commands that run on every prompt: the status-line parser and
// the pace of its windows, with decimal.js and luxon but without zod or the rest of the core (see
// docs/cli.md, statusline, and docs/decisions.md).
export { parseStatusLine } from './parsers/statusline.js';
export type { StatusLineInput } from './parsers/statusline.js';
export {
  statusLinePace,
  STATUSLINE_WINDOW_LENGTH_MS,
  STATUSLINE_ON_PACE_TOLERANCE_PERCENT,
} from './parsers/statusline-pace.js';
export type { StatusLinePace } from './parsers/statusline-pace.js';
export { WINDOW_NAMES } from './parsers/signal-draft.js';
export type { SignalDraft } from './parsers/signal-draft.js';
