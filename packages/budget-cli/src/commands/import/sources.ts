import { basename } from 'node:path';
import {
  CLAUDE_CODE_MARK,
  parseClaudeCodeLine,
  parseCodexLine,
  type CodexParserState,
  type SignalDraft,
  type TokenUsage,
} from '@mosaic/budget-core';
import type { FileLine } from './line-reader.js';

/** A spend entry read from a log, before attribution (host, agent, account) and pricing. */
export interface EntryDraft {
  /** When the entry happened, in epoch milliseconds. */
  occurredAtMs: number;
  model: string;
  usage: TokenUsage;
  task: string;
  /** The ledger idempotency key: the same log entry always gets the same key. */
  key: string;
  /** USD the log itself states (Claude Code's costUSD), if any. */
  usd?: string;
  /** The tool's own dedupe key; an entry whose key was seen before is skipped. */
  dedupeKey?: string;
}

/** What one line gave. */
export interface LineOutcome {
  entry?: EntryDraft;
  signals?: SignalDraft[];
  malformed?: string;
}

/** Reads the lines of one file, keeping whatever per-file state the format needs. */
export interface FileParser {
  line(l: FileLine): LineOutcome;
  /** State to store with the file's offset, to resume mid-file. */
  state(): Record<string, unknown> | undefined;
}

/** An agent whose logs can be imported. */
export interface Source {
  name: 'claude-code' | 'codex';
  /**
   * Text every line an entry or a signal can come from contains (the reader's `mark`), if there is
   * one: the import never hands this source a line without it that is a whole JSON object.
   */
  mark?: string;
  open(file: string, saved: Record<string, unknown> | undefined): FileParser;
}

/** Claude Code transcripts; dedupe on ccusage's (message.id, requestId) pair. */
export const claudeCode: Source = {
  name: 'claude-code',
  mark: CLAUDE_CODE_MARK,
  open(file) {
    const name = basename(file);
    return {
      line(l) {
        const r = parseClaudeCodeLine(l.text);
        if (r.kind === 'malformed') return { malformed: r.reason };
        if (r.kind === 'limit') return { signals: [r.signal] };
        if (r.kind === 'skip') return {};
        const e = r.entry;
        const entry: EntryDraft = {
          occurredAtMs: e.epochMs,
          model: e.model,
          usage: e.usage,
          task: e.sessionId ?? name.replace(/\.jsonl$/, ''),
          key: e.dedupeKey ? `claude-code:${e.dedupeKey}` : `claude-code:${name}:${l.offset}`,
        };
        if (e.costUsd !== undefined) entry.usd = e.costUsd;
        if (e.dedupeKey !== undefined) entry.dedupeKey = e.dedupeKey;
        return { entry };
      },
      state: () => undefined,
    };
  },
};

/** Codex CLI session logs; the parser's model and cumulative total carry across lines. */
export const codex: Source = {
  name: 'codex',
  open(file, saved) {
    const name = basename(file).replace(/\.jsonl$/, '');
    let state: CodexParserState = (saved as CodexParserState | undefined) ?? {};
    return {
      line(l) {
        const r = parseCodexLine(l.text, state);
        state = r.state;
        const out: LineOutcome = {};
        if (r.malformed) out.malformed = r.malformed;
        if (r.signals.length) out.signals = r.signals;
        if (r.turn) {
          out.entry = {
            occurredAtMs: r.turn.timestamp.toMillis(),
            model: r.turn.model,
            usage: r.turn.usage,
            task: name,
            key: `codex:${name}:${l.offset}`,
          };
        }
        return out;
      },
      state: () => ({ ...state }),
    };
  },
};
