import { outputContext } from '../../context.js';
import { earlyImportFlags, type EarlyImport } from './args.js';
import { markChecked, nothingNew } from './quick.js';
import { print } from './summary.js';

/**
 * Answers `import` from the log files' metadata alone when nothing is new, before commander and the
 * other commands are loaded (the bin bundles this path; see scripts/bundle.mjs). Returns
 * false when there may be something to import or anything is unusual: the full command then runs
 * and decides, validates and explains, exactly as without this path.
 */
export async function runQuickImport(early: EarlyImport): Promise<boolean> {
  const ctx = outputContext(early.globals);
  let summary;
  try {
    summary = await nothingNew(ctx, early.source, early.flags);
  } catch {
    // A configuration the full command would refuse: let it say why.
    return false;
  }
  if (!summary) {
    markChecked(early.source);
    return false;
  }
  print(ctx, summary);
  return true;
}

/** {@link runQuickImport} straight from the bin's arguments: false when they are not an import it recognises. */
export async function quickImportFromArgs(args: readonly string[]): Promise<boolean> {
  const early = earlyImportFlags(args);
  return early ? runQuickImport(early) : false;
}
