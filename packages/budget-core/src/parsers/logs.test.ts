import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { parseClaudeCodeLine } from './claude-code.js';
import { parseCodexLine, type CodexParserState, type CodexTurn } from './codex.js';
import { parseStatusLine } from './statusline.js';
import { parseRateLimitHeaders } from './headers.js';
import type { SignalDraft } from './signal-draft.js';

const fixture = (p: string): string =>
  readFileSync(fileURLToPath(new URL(`./fixtures/${p}`, import.meta.url)), 'utf8');
const S1 = 'claude-code/projects/-home-dev-app/s1.jsonl';
const CODEX =
  'codex/sessions/2026/11/20/rollout-2026-11-20T14-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl';

describe('parseClaudeCodeLine', () => {
  const lines = fixture(S1).split('\n').map(parseClaudeCodeLine);

  it('reads usage, model, ids and the dedupe key from an assistant line', () => {
    const first = lines[1];
    expect(first?.kind).toBe('usage');
    if (first?.kind !== 'usage') return;
    expect(first.entry).toMatchObject({
      model: 'claude-sonnet-4-5-20250929',
      sessionId: 's1',
      requestId: 'req_01',
      messageId: 'msg_01',
      dedupeKey: 'msg_01:req_01',
      usage: { inputTokens: 10, outputTokens: 200, cacheWriteTokens: 1000, cacheReadTokens: 5000 },
    });
    expect(first.entry.timestamp.toUTC().toISO()).toBe('2026-11-20T23:00:00.000Z');
    expect(first.entry.epochMs).toBe(Date.parse('2026-11-20T23:00:00.000Z'));
    expect(first.entry.timestamp.zoneName).toBe('UTC');
  });

  it('takes cache writes from the ephemeral 5m + 1h split when present', () => {
    const opus = lines[3];
    expect(opus?.kind === 'usage' && opus.entry.usage.cacheWriteTokens).toBe(2200);
  });

  it('counts a broken line as malformed and skips lines without usage', () => {
    expect(lines.map((l) => l.kind)).toEqual([
      'skip',
      'usage',
      'usage',
      'usage',
      'malformed',
      'usage',
      'usage',
      'usage',
      'limit',
      'skip',
      'skip',
    ]);
    expect(lines[0]).toEqual({ kind: 'skip', reason: 'no-usage' });
  });

  it('has no dedupe key when requestId is missing', () => {
    const l = lines[6];
    expect(l?.kind === 'usage' && l.entry.dedupeKey).toBeUndefined();
  });

  it('turns "usage limit reached|<unix>" into a provider-confidence reset at 100 %', () => {
    const l = lines[8];
    expect(l?.kind).toBe('limit');
    if (l?.kind !== 'limit') return;
    expect(l.signal.confidence).toBe('provider');
    expect(l.signal.usedPercent.toString()).toBe('100');
    expect(l.signal.resetAt?.toISO()).toBe('2026-11-21T03:00:00.000Z');
    expect(l.signal.window).toBe('session');
  });

  it('skips the <synthetic> model', () => {
    const line = JSON.stringify({
      timestamp: '2026-11-21T00:00:00Z',
      message: { model: '<synthetic>', usage: { input_tokens: 0, output_tokens: 0 } },
    });
    expect(parseClaudeCodeLine(line)).toEqual({ kind: 'skip', reason: 'synthetic' });
  });

  it('never throws on junk', () => {
    const usage = '"message":{"usage":{"input_tokens":1,"output_tokens":1}}';
    const junk = [
      'null',
      '[]',
      '42',
      `{"timestamp":"yesterday",${usage}}`,
      `{${usage}}`,
      '\u0001',
      '{"message":7}',
    ];
    for (const junk1 of junk) {
      const junk = junk1;
      expect(parseClaudeCodeLine(junk).kind).toBe('malformed');
    }
  });
});

function runCodex(text: string): { turns: CodexTurn[]; signals: SignalDraft[]; malformed: number } {
  let state: CodexParserState = {};
  const turns: CodexTurn[] = [];
  const signals: SignalDraft[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    const r = parseCodexLine(line, state);
    state = r.state;
    if (r.turn) turns.push(r.turn);
    signals.push(...r.signals);
    if (r.malformed) malformed += 1;
  }
  return { turns, signals, malformed };
}

describe('parseCodexLine', () => {
  const { turns, signals, malformed } = runCodex(fixture(CODEX));

  it('yields one turn per new token_count, with the model of the latest turn_context', () => {
    expect(turns.map((t) => t.model)).toEqual(['gpt-5.1-codex', 'gpt-5.1-codex-mini', 'gpt-5.1-codex-mini']);
    expect(malformed).toBe(1);
  });

  it('maps input to exclude cached tokens and keeps reasoning inside output', () => {
    expect(turns[0]?.usage).toEqual({
      inputTokens: 4000,
      cacheReadTokens: 8000,
      outputTokens: 700,
      cacheWriteTokens: 0,
    });
    expect(turns[0]?.raw.inputTokens).toBe(12000);
  });

  it('uses the growth of the cumulative total when last_token_usage is absent', () => {
    expect(turns[2]?.raw).toMatchObject({ inputTokens: 3000, cachedInputTokens: 1000, outputTokens: 400 });
  });

  it('reads rate_limits into session and weekly signals, absolute and relative resets', () => {
    expect(signals).toHaveLength(8);
    expect(signals[0]).toMatchObject({ window: 'session', confidence: 'provider', source: 'codex-log' });
    expect(signals[0]?.usedPercent.toString()).toBe('3');
    expect(signals[1]?.window).toBe('weekly');
    expect(signals[0]?.resetAt?.toISO()).toBe('2026-11-20T18:00:00.000Z');
    const relative = signals[6];
    expect(relative?.resetAt?.toUTC().toISO()).toBe('2026-11-21T00:50:00.000Z');
  });

  it('falls back to gpt-5 when no turn_context names the model', () => {
    const old = runCodex(
      fixture(
        'codex/sessions/2026/11/20/rollout-2026-11-21T10-00-00-0199b000-0000-7000-8000-000000000001.jsonl',
      ),
    );
    expect(old.turns[0]).toMatchObject({ model: 'gpt-5', modelIsFallback: true });
  });
});

describe('parseStatusLine', () => {
  const now = DateTime.fromISO('2026-11-21T12:00:00Z', { setZone: true });

  it('reads five_hour and seven_day into session and weekly signals', () => {
    const r = parseStatusLine(JSON.parse(fixture('statusline.json')), { now });
    expect(r.sessionId).toBe('s1');
    expect(r.model).toBe('claude-sonnet-4-5-20250929');
    expect(r.signals.map((s) => [s.window, s.usedPercent.toString(), s.resetAt?.toISO()])).toEqual([
      ['session', '23.5', '2026-11-21T16:00:00.000Z'],
      ['weekly', '41.2', '2026-11-26T16:00:00.000Z'],
    ]);
  });

  it('degrades quietly without rate_limits or with junk', () => {
    expect(parseStatusLine(JSON.parse(fixture('statusline-no-limits.json')), { now }).signals).toEqual([]);
    expect(parseStatusLine('nonsense', { now }).signals).toEqual([]);
    expect(
      parseStatusLine({ rate_limits: { five_hour: { used_percentage: 'x' } } }, { now }).signals,
    ).toEqual([]);
  });
});

describe('parseRateLimitHeaders', () => {
  const now = DateTime.fromISO('2026-11-21T12:00:00Z', { setZone: true });

  it('reads Anthropic unified utilization as percent, reset, status and binding window', () => {
    const r = parseRateLimitHeaders(
      {
        'Anthropic-Ratelimit-Unified-5h-Utilization': '0.42',
        'anthropic-ratelimit-unified-5h-reset': '1795276800',
        'anthropic-ratelimit-unified-7d-utilization': '1.05',
        'anthropic-ratelimit-unified-7d-reset': '1795708800',
        'anthropic-ratelimit-unified-status': 'allowed_warning',
        'anthropic-ratelimit-unified-representative-claim': 'seven_day',
      },
      { now },
    );
    expect(r.signals.map((s) => [s.window, s.usedPercent.toString()])).toEqual([
      ['session', '42'],
      ['weekly', '105'],
    ]);
    expect(r.signals[0]?.resetAt?.toISO()).toBe('2026-11-21T16:00:00.000Z');
    expect(r.status).toBe('allowed_warning');
    expect(r.bindingWindow).toBe('weekly');
  });

  it('reads Codex primary and secondary from a fetch-style header list', () => {
    const r = parseRateLimitHeaders(
      [
        ['x-codex-primary-used-percent', '12.5'],
        ['x-codex-primary-window-minutes', '300'],
        ['x-codex-primary-reset-at', '1795276800'],
        ['x-codex-secondary-used-percent', '40'],
        ['x-codex-secondary-window-minutes', '10080'],
      ],
      { now },
    );
    expect(r.signals.map((s) => [s.window, s.usedPercent.toString(), s.source])).toEqual([
      ['session', '12.5', 'header'],
      ['weekly', '40', 'header'],
    ]);
  });

  it('skips unreadable values', () => {
    expect(parseRateLimitHeaders({ 'x-codex-primary-used-percent': 'lots' }, { now }).signals).toEqual([]);
  });
});
