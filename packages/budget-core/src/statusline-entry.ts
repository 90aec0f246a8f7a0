// A light entry point for status-line commands that run on every prompt: only the status-line
// parser and its window names, without zod or the rest of the core (see docs/cli.md, statusline).
export { parseStatusLine } from './parsers/statusline.js';
export type { StatusLineInput } from './parsers/statusline.js';
export { WINDOW_NAMES } from './parsers/signal-draft.js';
export type { SignalDraft } from './parsers/signal-draft.js';
