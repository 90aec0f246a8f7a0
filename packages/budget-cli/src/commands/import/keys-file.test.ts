import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  FIXTURES,
  importArgs,
  mosaic,
  subscriptionArgs,
} from '../../test-support/cli-process.js';
import { findJsonl } from './files.js';

const tmp = mkdtempSync(join(tmpdir(), 'mosaic-import-keys-'));
const logs = join(tmp, 'claude');
const stateDir = join(tmp, 'state', 'import-state');
const env = { HOME: tmp, MOSAIC_BUDGET_STATE_DIR: join(tmp, 'state'), MOSAIC_BUDGET_HOST: 'h' };
const local = (args: string[]) => mosaic(['--data-dir', join(tmp, 'data'), ...args], env);
const importLogs = importArgs(logs);

interface Summary {
  entries: number;
  deduplicated: number;
  inserted: number;
  duplicates: number;
}

/** The fixture's dedupe keys (`message.id:requestId`), one per distinct message that is spend. */
function fixtureKeys(): string[] {
  const keys = new Set<string>();
  for (const f of findJsonl(logs)) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      try {
        const j = JSON.parse(line) as {
          requestId?: string;
          message?: { id?: string; model?: string; usage?: unknown };
        };
        // `<synthetic>` lines are not spend and are never keyed.
        if (j.requestId && j.message?.id && j.message.usage && j.message.model !== '<synthetic>')
          keys.add(`${j.message.id}:${j.requestId}`);
      } catch {
        // Not JSON: the fixture's malformed line.
      }
    }
  }
  return [...keys];
}

beforeAll(async () => {
  await ensureBuilt();
  cpSync(join(FIXTURES, 'claude-code'), logs, { recursive: true });
  const set = await local(subscriptionArgs('max-a', ['claude-sonnet-4-5']));
  expect(set.code, set.stderr).toBe(0);
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the dedupe keys file', () => {
  it("takes over an older version's .seen text file: its keys dedupe, then it is replaced by .keys", async () => {
    const first = await local(importLogs);
    expect(first.code, first.stderr).toBe(0);
    const files = readdirSync(stateDir);
    const keysFile = join(stateDir, files.find((f) => f.endsWith('.keys')) as string);
    const stateFile = keysFile.replace(/\.keys$/, '.json');
    const keys = fixtureKeys();
    expect(keys.length).toBeGreaterThan(2);
    expect(statSync(keysFile).size).toBe(keys.length * 16);

    // As an older version leaves it: the keys as text, no .keys file; and offsets forgotten, so the
    // import reads every line again and only the text file's keys stand between it and the ledger.
    rmSync(keysFile);
    rmSync(stateFile);
    const seenFile = keysFile.replace(/\.keys$/, '.seen');
    writeFileSync(seenFile, `${keys.join('\n')}\n`);
    const again = await local(importLogs);
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout) as Summary;
    // Every usage message's key was held: nothing keyed is sent again, nothing is refused.
    expect(summary.inserted).toBe(0);
    expect(summary.duplicates).toBe(summary.entries);
    expect(summary.deduplicated).toBeGreaterThanOrEqual(keys.length);
    expect(existsSync(seenFile)).toBe(false);
    expect(statSync(keysFile).size).toBe(keys.length * 16);
  });
});
