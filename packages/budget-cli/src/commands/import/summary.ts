import type { OutputContext } from '../../context.js';

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

/** The summary of an import that has read nothing yet. */
export function emptySummary(source: string, account: string, files: number): ImportSummary {
  return {
    source,
    account,
    files,
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
}

/** Prints the summary: JSON with --json, else a few lines with the warnings that need action. */
export function print(ctx: OutputContext, s: ImportSummary): void {
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
