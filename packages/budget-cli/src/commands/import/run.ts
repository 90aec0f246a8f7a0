import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { z } from 'zod';
import { idSchema, labelSchema, modelPricer, type SignalDraft } from '@mosaic/budget-core';
import type { CommandContext } from '../../context.js';
import { UsageError } from '../../errors.js';
import { parseFlags } from '../../flags.js';
import { call } from '../../transport/call.js';
import { resolveConnection } from '../../transport/resolve.js';
import type { Transport } from '../../transport/transport.js';
import { livePriceTable } from '../../pricing.js';
import { claudeCodeDirs, codexDirs, findJsonl } from './files.js';
import { firstTimestamp } from './first-timestamp.js';
import { readLines } from './line-reader.js';
import { batchPipeline } from './pipeline.js';
import { progressBar } from './progress.js';
import { destinationOf } from './state-path.js';
import { emptySummary, type ImportSummary } from './summary.js';
import type { Source } from './sources.js';
import { KeySet } from './key-set.js';
import {
  appendKeys,
  fingerprint,
  keysPath,
  loadKeys,
  loadState,
  saveState,
  seenPath,
  statePath,
  statFacts,
  unchangedSince,
  writeKeys,
  type FileState,
} from './state.js';

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
// Batches sent before the first has answered, against a remote service: the importer reads the next
// batch while the service and PostgreSQL write the ones before it (docs/benchmarks.md, suite 5). In
// local mode the service runs on this thread, so a second batch in flight would only hold memory.
const REMOTE_IN_FLIGHT = 2;
// Bytes to read from which an import against a service bounds the heap's growth (see below).
const BOUNDED_HEAP_FROM_BYTES = 64 * 1024 * 1024;
// How often the file offsets are saved while an import runs (always at its end).
const STATE_SAVE_INTERVAL_MS = 1000;
// How many malformed lines the summary names (all are counted).
const SHOWN_MALFORMED = 5;
const MODEL_OK = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

interface SpendAnswer {
  inserted: number;
  duplicates: number | string[];
}

interface AccountWire {
  id: string;
  provider: string;
  windows?: { name: string }[];
}

/** Reads new lines of the source's logs into the ledger (the whole import once flags are known). */
export async function importLogs(
  ctx: CommandContext,
  source: Source,
  raw: Record<string, unknown>,
): Promise<ImportSummary> {
  const f = parseFlags(flagsSchema, raw);
  const paths = (f.path ?? []).map((p) => resolve(p));
  const dirs = source.name === 'claude-code' ? claudeCodeDirs(paths, ctx.env) : codexDirs(paths, ctx.env);
  if (paths.length && dirs.length === 0) throw new UsageError(`no such folder: ${paths.join(', ')}`);
  const files = [...new Set(dirs.flatMap(findJsonl))];

  // The state is found from the connection alone, so that an import with nothing new answers from
  // file metadata without starting the service or the embedded database (most of a re-run's time).
  const connection = await resolveConnection(ctx.globals, ctx.env);
  const statefile = statePath(source.name, destinationOf(connection), connection.tenant, ctx.env);
  const state = f.full ? { version: 1 as const, files: {} } : loadState(statefile);
  const stats = new Map<string, Stats>(files.map((file) => [file, statSync(file)]));
  const changed = files.filter((file) => !unchangedSince(state.files[file], stats.get(file) as Stats));
  const summary = emptySummary(source.name, f.account, files.length);
  if (changed.length === 0) return summary;

  const t: Transport = await ctx.transport();
  const { accounts } = await call<{ accounts: AccountWire[] }>(t, 'GET', '/v1/accounts');
  const account = accounts.find((a) => a.id === f.account);
  if (!account)
    throw new UsageError(`there is no account "${f.account}"`, 'create it first with `mosaic budget set`');
  const { id: accountId, provider: accountProvider } = account;
  const windows = new Set((account.windows ?? []).map((w) => w.name));
  const price = modelPricer(await livePriceTable(t));

  const keysFile = keysPath(statefile);
  const seenFile = seenPath(statefile);
  const loaded = f.full ? { keys: new KeySet(), fromText: false } : loadKeys(keysFile, seenFile);
  const seen = loaded.keys;
  // Keys an earlier version kept inside the state file or in the `.seen` text file move to the keys
  // file once; after --full the file is rewritten from this run's keys. Either way the first save
  // rewrites it whole.
  for (const k of state.seen ?? []) seen.add(k);
  let rewriteSeen = f.full || loaded.fromText || (state.seen?.length ?? 0) > 0;
  delete state.seen;
  let unsaved: string[] = [];

  // ccusage keeps the first copy of a duplicated message in the order of each file's earliest entry;
  // unchanged files add no lines, so only the changed ones need ordering.
  const toRead =
    source.name === 'claude-code'
      ? (() => {
          const first = new Map(changed.map((file) => [file, firstTimestamp(file)]));
          return [...changed].sort((a, b) => ((first.get(a) ?? '') < (first.get(b) ?? '') ? -1 : 1));
        })()
      : changed;
  const plans = toRead.map((file) => {
    const st = stats.get(file) as Stats;
    const size = st.size;
    const held: FileState | undefined = state.files[file];
    const resume =
      held !== undefined && size >= held.offset && fingerprint(file, held.offset) === held.fingerprint;
    return {
      file,
      size,
      facts: statFacts(st),
      start: resume ? held.offset : 0,
      parser: resume ? held.parser : undefined,
      held: resume ? held : undefined,
    };
  });
  const toReadBytes = plans.reduce((s, p) => s + p.size - p.start, 0);
  if (t.mode === 'remote' && toReadBytes >= BOUNDED_HEAP_FROM_BYTES) {
    // An import against a service streams: what it holds at any moment is a batch or two and the
    // dedupe keys (~15 MB live after 500 MB of transcripts), while it allocates gigabytes of
    // short-lived lines. V8 sized the old space after each full collection from that allocation rate,
    // and the peak RSS grew with the input (~150 MB for 500 MB against ~117 for 125 MB); growing the
    // heap by 20 % of what a collection left keeps it at ~117-121 MB for both, at the same CPU
    // (docs/benchmarks.md, suite 7). The factor is read at each collection, so it applies from the
    // next one on. Not in local mode: the service and PGlite's objects live in this heap there, and
    // collecting them that often cost a first import 5 s more CPU. Not for a small read either (a
    // re-run after a few MB were appended): its heap never grows far, and the collections the bound
    // forces while the CLI's modules load cost it ~45 ms (docs/decisions.md).
    setFlagsFromString('--heap-growing-percent=20');
  }
  const progress = progressBar(
    toReadBytes,
    process.stderr.isTTY === true && !ctx.json,
    `importing ${source.name}`,
  );

  let pending: Record<string, unknown>[] = [];
  let pendingFiles: [string, FileState][] = [];
  const newestSignal = new Map<string, SignalDraft>();
  const pipeline = batchPipeline<SpendAnswer | undefined>(t.mode === 'remote' ? REMOTE_IN_FLIGHT : 1);
  let stateSavedAt = Number.NEGATIVE_INFINITY;
  const flush = async (last = false): Promise<void> => {
    // What this batch carries is taken now; its bookkeeping runs once it and every batch before it
    // have landed (pipeline.ts), so a later batch's keys are never saved before their records.
    const records = pending;
    const keys = unsaved;
    const files = pendingFiles;
    const allKeys = rewriteSeen ? seen.bytes() : undefined;
    pending = [];
    unsaved = [];
    pendingFiles = [];
    rewriteSeen = false;
    await pipeline.push(
      () =>
        records.length > 0
          ? call<SpendAnswer>(t, 'POST', '/v1/spend', { records })
          : Promise.resolve(undefined),
      (res) => {
        if (res) {
          summary.inserted += res.inserted;
          // The service lists the duplicate keys; a count is all the summary needs.
          summary.duplicates += Array.isArray(res.duplicates) ? res.duplicates.length : res.duplicates;
        }
        // Keys and offsets advance only after their records are in the ledger: a crash re-reads,
        // never skips. Keys are saved first: a key saved without its file's offset makes a re-read
        // skip an entry the ledger already holds, which is right; the other order could re-send one
        // under another task.
        if (allKeys) writeKeys(keysFile, allKeys, seenFile);
        else appendKeys(keysFile, keys);
        for (const [file, fs] of files) state.files[file] = fs;
        // The offsets may lag the keys by a moment: a re-read after a crash skips the entries whose
        // keys were saved and re-sends the others under their same idempotency keys, which the
        // ledger counts as duplicates. Rewriting the state after every batch was a few per cent of the
        // CPU of a large import.
        const now = Date.now();
        if (last || allKeys || now - stateSavedAt >= STATE_SAVE_INTERVAL_MS) {
          saveState(statefile, state);
          stateSavedAt = now;
        }
      },
    );
  };

  async function readPlans(): Promise<void> {
    for (const plan of plans) {
      if (plan.size <= plan.start) {
        // Nothing new, but its stat facts were missing or moved (touched, or saved by an older version):
        // record them so the next run can tell it is unchanged without opening it.
        if (plan.held) pendingFiles.push([plan.file, { ...plan.held, ...plan.facts }]);
        continue;
      }
      summary.filesRead += 1;
      const parser = source.open(plan.file, plan.parser);
      let end = plan.start;
      for await (const batch of readLines(plan.file, plan.start, plan.size, {
        onBytes: (n) => progress.add(n),
        ...(source.mark !== undefined ? { mark: source.mark } : {}),
      })) {
        for (const l of batch) {
          summary.lines += 1;
          end = l.end;
          // A line without the source's mark can give it nothing (line-reader.ts): counted, not parsed.
          if (l.unmarked) continue;
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
            if (!seen.add(e.dedupeKey)) {
              summary.deduplicated += 1;
              continue;
            }
            unsaved.push(e.dedupeKey);
          }
          summary.entries += 1;
          const model = MODEL_OK.test(e.model)
            ? e.model
            : e.model.replace(/[^A-Za-z0-9._:-]/g, '-').replace(/^[^A-Za-z0-9]+/, 'm');
          let usd = e.usd ?? price(model, e.usage)?.toString();
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
            provider: accountProvider,
            account: accountId,
            model,
            ...e.usage,
            usd,
            kind: 'actual',
            // The same text as luxon's toUTC().toISO() for the years the core accepts, at a fraction of
            // the cost per entry.
            occurredAt: new Date(e.occurredAtMs).toISOString(),
            idempotencyKey: e.key,
          });
          // A batch is sent as soon as it is full, mid-file too, so that one long transcript is never
          // held in memory whole. The file's offset still advances only at its end; keys saved before
          // it only make a re-read skip entries the ledger already holds.
          if (pending.length >= BATCH) await flush();
        }
      }
      summary.bytesRead += end - plan.start;
      const parserState = parser.state();
      pendingFiles.push([
        plan.file,
        {
          offset: end,
          fingerprint: fingerprint(plan.file, end),
          ...(parserState ? { parser: parserState } : {}),
          ...plan.facts,
        },
      ]);
    }
  }

  try {
    await readPlans();
  } catch (error) {
    // What is already in flight still lands and is recorded, so a re-run does not send it again; the
    // error the user sees is the one that stopped the reading.
    await pipeline.drain().catch(() => undefined);
    throw error;
  }
  await flush(true);
  await pipeline.drain();
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
