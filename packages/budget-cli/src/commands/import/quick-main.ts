import { outputContext } from '../../context.js';
import type { EarlyImport } from './args.js';
import { nothingNew } from './quick.js';
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
  if (!summary) return false;
  print(ctx, summary);
  return true;
}
