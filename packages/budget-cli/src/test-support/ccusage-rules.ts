/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument -- a reference implementation over arbitrary JSON lines, kept short on purpose. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * ccusage's documented rules, written independently of the importer so a test can compare the two:
 * per-day (in a zone's calendar; UTC here) per-model token totals.
 */
export interface DayModelTotals {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}

function jsonl(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...jsonl(p));
    else if (e.name.endsWith('.jsonl')) out.push(p);
  }
  return out;
}

function tryJson(line: string): Record<string, any> | undefined {
  // The fixture lines are arbitrary JSON; `any` keeps this reference implementation short.
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null ? (v as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

function add(map: Map<string, DayModelTotals>, key: string, t: DayModelTotals): void {
  const held = map.get(key) ?? { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
  held.input += t.input;
  held.output += t.output;
  held.cacheCreation += t.cacheCreation;
  held.cacheRead += t.cacheRead;
  map.set(key, held);
}

/**
 * `ccusage daily` for Claude Code: files in order of their earliest timestamp; a line counts when it
 * has message.usage; the first line of each (message.id, requestId) pair counts, later ones do not
 * (lines missing either id always count); `<synthetic>` is not a model; cache creation is the
 * ephemeral 5m + 1h split when present. Keyed `day|model`, days in UTC.
 */
export function ccusageClaudeDaily(dir: string): Map<string, DayModelTotals> {
  const files = jsonl(dir).map((f) => {
    const lines = readFileSync(f, 'utf8').split('\n');
    const stamps = lines
      .map((l) => tryJson(l)?.timestamp as string | undefined)
      .filter((s): s is string => !!s);
    return { f, lines, first: stamps.sort()[0] ?? '9999' };
  });
  files.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const seen = new Set<string>();
  const out = new Map<string, DayModelTotals>();
  for (const { lines } of files) {
    for (const line of lines) {
      const d = tryJson(line);
      const u = d?.message?.usage;
      if (!d || !u || typeof d.timestamp !== 'string') continue;
      const hash = d.message.id && d.requestId ? `${d.message.id}:${d.requestId}` : undefined;
      if (hash) {
        if (seen.has(hash)) continue;
        seen.add(hash);
      }
      const model = d.message.model ?? 'unknown';
      if (model === '<synthetic>') continue;
      const split = u.cache_creation;
      const cacheCreation =
        split &&
        (split.ephemeral_5m_input_tokens !== undefined || split.ephemeral_1h_input_tokens !== undefined)
          ? (split.ephemeral_5m_input_tokens ?? 0) + (split.ephemeral_1h_input_tokens ?? 0)
          : (u.cache_creation_input_tokens ?? 0);
      add(out, `${new Date(d.timestamp).toISOString().slice(0, 10)}|${model}`, {
        input: u.input_tokens,
        output: u.output_tokens,
        cacheCreation,
        cacheRead: u.cache_read_input_tokens ?? 0,
      });
    }
  }
  return out;
}

/**
 * ccusage's Codex daily totals: per file, the model of the latest turn_context (else gpt-5); each
 * token_count event counts its last_token_usage, or the growth of total_token_usage when absent; an
 * event whose cumulative total equals the previous one is a repeat; zero events count nothing.
 * `input` includes cached input (Codex's convention); `cacheRead` is the cached part.
 */
export function ccusageCodexDaily(dir: string): Map<string, DayModelTotals> {
  const out = new Map<string, DayModelTotals>();
  for (const f of jsonl(dir)) {
    let model: string | undefined;
    let prev: Record<string, number> | undefined;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const d = tryJson(line);
      if (!d) continue;
      if (d.type === 'turn_context' && typeof d.payload?.model === 'string') model = d.payload.model;
      if (d.type !== 'event_msg' || d.payload?.type !== 'token_count') continue;
      const total = d.payload.info?.total_token_usage as Record<string, number> | undefined;
      const last = d.payload.info?.last_token_usage as Record<string, number> | undefined;
      const repeat = total && prev && JSON.stringify(total) === JSON.stringify(prev);
      const delta = (k: string): number =>
        last ? (last[k] ?? 0) : Math.max(0, (total?.[k] ?? 0) - (prev?.[k] ?? 0));
      if (total) prev = total;
      if (repeat || (!last && !total)) continue;
      const t = {
        input: delta('input_tokens'),
        output: delta('output_tokens'),
        cacheCreation: 0,
        cacheRead: delta('cached_input_tokens'),
      };
      if (t.input + t.output + t.cacheRead === 0) continue;
      add(out, `${new Date(d.timestamp).toISOString().slice(0, 10)}|${model ?? 'gpt-5'}`, t);
    }
  }
  return out;
}
