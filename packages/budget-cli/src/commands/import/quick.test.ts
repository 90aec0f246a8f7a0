import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idSchema, labelSchema } from '@mosaic/budget-core';
import { surelyId, surelyLabel } from './quick.js';

// Strings of every kind: printable, any code unit (control characters, lone surrogates), and ones
// shaped like ids, up to past the 128- and 256-character limits.
const anyText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,140}$/),
);

describe('the hand-checked flag rules of an import with nothing new', () => {
  it('never take for an id what idSchema refuses, and agree with it otherwise', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(surelyId(s)).toBe(idSchema.safeParse(s).success);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never take for a label what labelSchema refuses, and agree with it otherwise', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(surelyLabel(s)).toBe(labelSchema.safeParse(s).success);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuse what is not text at all', () => {
    for (const v of [undefined, null, 3, ['a'], {}]) {
      expect(surelyId(v)).toBe(false);
      expect(surelyLabel(v)).toBe(false);
    }
  });
});

describe('the quick path and the full command', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('tell each other, across separate copies of the module (their bundles), that the metadata was checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quick-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'session.jsonl'), '{}\n');
    // No state file yet: there may be something to import, so the quick path declines.
    vi.stubEnv('MOSAIC_BUDGET_STATE_DIR', join(dir, 'state'));
    const { runQuickImport } = await import('./quick-main.js');
    const declined = await runQuickImport({
      source: 'codex',
      globals: { api: 'http://127.0.0.1:9', token: 't' },
      flags: { account: 'acct', agent: 'codex', taskClass: 'unclassified', path: [dir] },
    });
    expect(declined).toBe(false);
    vi.resetModules();
    const other = await import('./quick.js');
    expect([other.checkedAlready('codex'), other.checkedAlready('claude-code')]).toEqual([true, false]);
  });
});
