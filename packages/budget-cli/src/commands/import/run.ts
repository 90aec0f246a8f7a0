import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { idSchema, labelSchema, type SignalDraft } from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import type { CommandContext } from '../../context.js';
import { UsageError } from '../../errors.js';
import { parseFlags } from '../../flags.js';
import { call } from '../../transport/call.js';
import type { Transport } from '../../transport/transport.js';
import { livePriceTable, priceOf } from '../../pricing.js';
import { claudeCodeDirs, codexDirs, findJsonl } from './files.js';
import { readLines } from './line-reader.js';
import { progressBar } from './progress.js';
import { claudeCode, codex, type Source } from './sources.js';
import { fingerprint, loadState, saveState, statePath, type FileState } from './state.js';

const flagsSchema = z.object({
  account: idSchema,
  path: z.array(z.string().min(1)).optional(),
  agent: labelSchema,
  host: labelSchema.optional(),
  mission: labelSchema.optional(),
  taskClass: idSchema,
  full: z.boolean().optional(),
});

// Records per POST /v1/spend: well under the service's 10,000 and its body limit.
const BATCH = 2000;
// How many malformed lines the summary names (all are counted).
const SHOWN_MALFORMED = 5;
const MODEL_OK = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

interface AccountWire {
  id: string;
  provider: string;
  windows?: { name: string }[];
}

/** What an import did, for the summary and --json. */
export interface ImportSummary {
  source: string;
  account: string;
  files: number;
  filesRead: number;
  bytesRead: number;
  lines: number;
  entries: number;
  deduplicated: number;
  inserted: number;
  duplicates: number;
  malformed: number;
  malformedExamples: string[];
  unpricedModels: Record<string, number>;
  signals: { sent: number; skippedWindows: Record<string, number> };
}

/** The first timestamp in a file's first 64 KiB, so files are read oldest first as ccusage does. */
function firstTimestamp(file: string): string {
  const buf = Buffer.alloc(65_536);
  const fd = openSync(file, 'r');
  let n = 0;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const m = /"timestamp"\s*:\s*"([^"]+)"/.exec(buf.toString('utf8', 0, n));
  return m?.[1] ?? '9999';
}

async function importLogs(
  ctx: CommandContext,
  source: Source,
  raw: Record<string, unknown>,
): Promise<ImportSummary> {
  const f = parseFlags(flagsSchema, raw);
  const paths = (f.path ?? []).map((p) => resolve(p));
  const dirs = source.name === 'claude-code' ? claudeCodeDirs(paths, ctx.env) : codexDirs(paths, ctx.env);
  if (paths.length && dirs.length === 0) throw new UsageError(`no such folder: ${paths.join(', ')}`);
  let files = [...new Set(dirs.flatMap(findJsonl))];
  // ccusage keeps the first copy of a duplicated message in the order of each file's earliest entry.
  if (source.name === 'claude-code') {
    const first = new Map(files.map((file) => [file, firstTimestamp(file)]));
    files = files.sort((a, b) => ((first.get(a) ?? '') < (first.get(b) ?? '') ? -1 : 1));
  }

  const t: Transport = await ctx.transport();
  const { accounts } = await call<{ accounts: AccountWire[] }>(t, 'GET', '/v1/accounts');
  const account = accounts.find((a) => a.id === f.account);
  if (!account)
    throw new UsageError(`there is no account "${f.account}"`, 'create it first with `mosaic budget set`');
  const windows = new Set((account.windows ?? []).map((w) => w.name));
  const prices = await livePriceTable(t);

  const statefile = statePath(source.name, `${t.mode}:${t.target}`, ctx.globals.tenant ?? 'default', ctx.env);
  const state = f.full ? { version: 1 as const, files: {}, seen: [] } : loadState(statefile);
  const seen = new Set(state.seen);

  const plans = files.map((file) => {
    const size = statSync(file).size;
    const held: FileState | undefined = state.files[file];
    const resume =
      held !== undefined && size >= held.offset && fingerprint(file, held.offset) === held.fingerprint;
    return { file, size, start: resume ? held.offset : 0, parser: resume ? held.parser : undefined };
  });
  const summary: ImportSummary = {
    source: source.name,
    account: f.account,
    files: files.length,
    filesRead: 0,
    bytesRead: 0,
    lines: 0,
    entries: 0,
    deduplicated: 0,
    inserted: 0,
    duplicates: 0,
    malformed: 0,
    malformedExamples: [],
    unpricedModels: {},
    signals: { sent: 0, skippedWindows: {} },
  };
  const progress = progressBar(
    plans.reduce((s, p) => s + p.size - p.start, 0),
    process.stderr.isTTY === true && !ctx.json,
    `importing ${source.name}`,
  );

  let pending: Record<string, unknown>[] = [];
  let pendingFiles: [string, FileState][] = [];
  const newestSignal = new Map<string, SignalDraft>();
  const flush = async (): Promise<void> => {
    for (let i = 0; i < pending.length; i += BATCH) {
      const res = await call<{ inserted: number; duplicates: number | string[] }>(t, 'POST', '/v1/spend', {
        records: pending.slice(i, i + BATCH),
      });
      summary.inserted += res.inserted;
      // The service lists the duplicate keys; a count is all the summary needs.
      summary.duplicates += Array.isArray(res.duplicates) ? res.duplicates.length : res.duplicates;
    }
    pending = [];
    // Offsets advance only after their records are in the ledger: a crash re-reads, never skips.
    for (const [file, fs] of pendingFiles) state.files[file] = fs;
    pendingFiles = [];
    state.seen = [...seen];
    saveState(statefile, state);
  };

  for (const plan of plans) {
    if (plan.size <= plan.start) continue;
    summary.filesRead += 1;
    const parser = source.open(plan.file, plan.parser);
    let end = plan.start;
    for await (const l of readLines(plan.file, plan.start, plan.size, (n) => progress.add(n))) {
      summary.lines += 1;
      end = l.end;
      const out = parser.line(l);
      if (out.malformed) {
        summary.malformed += 1;
        if (summary.malformedExamples.length < SHOWN_MALFORMED) {
          summary.malformedExamples.push(`${plan.file} at byte ${l.offset}: ${out.malformed}`);
        }
      }
      for (const s of out.signals ?? []) {
        const held = newestSignal.get(s.window);
        if (!held || s.observedAt >= held.observedAt) newestSignal.set(s.window, s);
      }
      const e = out.entry;
      if (!e) continue;
      if (e.dedupeKey !== undefined) {
        if (seen.has(e.dedupeKey)) {
          summary.deduplicated += 1;
          continue;
        }
        seen.add(e.dedupeKey);
      }
      summary.entries += 1;
      const model = MODEL_OK.test(e.model)
        ? e.model
        : e.model.replace(/[^A-Za-z0-9._:-]/g, '-').replace(/^[^A-Za-z0-9]+/, 'm');
      let usd = e.usd ?? priceOf(prices, model, e.usage)?.toString();
      if (usd === undefined) {
        summary.unpricedModels[model] = (summary.unpricedModels[model] ?? 0) + 1;
        usd = '0';
      }
      pending.push({
        host: f.host ?? ctx.host,
        agent: f.agent,
        ...(f.mission ? { mission: f.mission } : {}),
        task: e.task,
        taskClass: f.taskClass,
        provider: account.provider,
        account: account.id,
        model,
        ...e.usage,
        usd,
        kind: 'actual',
        occurredAt: e.occurredAt.toUTC().toISO(),
        idempotencyKey: e.key,
      });
    }
    summary.bytesRead += end - plan.start;
    const parserState = parser.state();
    pendingFiles.push([
      plan.file,
      {
        offset: end,
        fingerprint: fingerprint(plan.file, end),
        ...(parserState ? { parser: parserState } : {}),
      },
    ]);
    if (pending.length >= BATCH) await flush();
  }
  await flush();
  progress.done();

  const signals = [...newestSignal.values()].filter((s) => {
    if (windows.has(s.window)) return true;
    summary.signals.skippedWindows[s.window] = (summary.signals.skippedWindows[s.window] ?? 0) + 1;
    return false;
  });
  if (signals.length) {
    await call(t, 'POST', '/v1/usage-signals', {
      signals: signals.map((s) => ({
        account: account.id,
        window: s.window,
        usedPercent: s.usedPercent.toString(),
        ...(s.resetAt ? { resetAt: s.resetAt.toUTC().toISO() } : {}),
        confidence: s.confidence,
        observedAt: s.observedAt.toUTC().toISO(),
        source: s.source,
      })),
    });
    summary.signals.sent = signals.length;
  }
  return summary;
}

function print(ctx: CommandContext, s: ImportSummary): void {
  if (ctx.json) {
    ctx.printJson(s);
    return;
  }
  const c = ctx.color;
  ctx.print(
    `${s.source} → ${s.account}: ${s.files} file(s), ${s.filesRead} with new bytes (${s.bytesRead} bytes, ${s.lines} lines)`,
  );
  ctx.print(
    `entries: ${s.entries} new (${s.inserted} written, ${s.duplicates} already in the ledger), ${s.deduplicated} duplicate lines skipped`,
  );
  if (s.signals.sent) ctx.print(`usage signals: ${s.signals.sent} recorded (newest per window)`);
  for (const [w, n] of Object.entries(s.signals.skippedWindows)) {
    ctx.print(
      c.yellow(
        `skipped ${n} signal(s) for window "${w}": the account has no such window (add it: mosaic budget set --account ${s.account} --window ${w} --window-length ${w === 'session' ? 'PT5H --rolling' : 'P7D'})`,
      ),
    );
  }
  for (const [m, n] of Object.entries(s.unpricedModels)) {
    ctx.print(
      c.yellow(
        `no price for model "${m}" (${n} entries recorded at $0): add it under \`prices\` in the policy`,
      ),
    );
  }
  if (s.malformed) {
    ctx.print(c.yellow(`malformed lines: ${s.malformed} (skipped)`));
    for (const m of s.malformedExamples) ctx.print(c.dim(`  ${m}`));
  }
}

/** `import claude-code`. */
export const runClaudeCode: Runner = async (ctx, raw) => {
  print(ctx, await importLogs(ctx, claudeCode, raw));
};

/** `import codex`. */
export const runCodex: Runner = async (ctx, raw) => {
  print(ctx, await importLogs(ctx, codex, raw));
};
