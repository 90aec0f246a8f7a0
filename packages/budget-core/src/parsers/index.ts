// The pure input parsers: what operators type and what the agents write, read without I/O or clock.
export { ParseInputError } from './parse-error.js';
export { parseWhen } from './when.js';
export type { WhenOptions } from './when.js';
export { WINDOW_NAMES, windowNameForMinutes } from './signal-draft.js';
export type { SignalDraft } from './signal-draft.js';
export { parseClaudeCodeLine, claudeCodeDedupeKey, CLAUDE_CODE_MARK } from './claude-code.js';
export type { ClaudeCodeLine, ClaudeCodeUsage } from './claude-code.js';
export { parseCodexLine, codexToTokenUsage, CODEX_FALLBACK_MODEL } from './codex.js';
export type { CodexLineResult, CodexParserState, CodexRawUsage, CodexTurn } from './codex.js';
export { parseStatusLine } from './statusline.js';
export type { StatusLineInput } from './statusline.js';
export { parseRateLimitHeaders } from './headers.js';
export type { HeaderBag, HeaderSignals } from './headers.js';
