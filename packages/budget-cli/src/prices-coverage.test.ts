import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_PRICES, priceOf } from '@mosaic/budget-core';
import { STARTER_POLICY } from './commands/policy/starter.js';
import { FIXTURES, ROOT } from './test-support/cli-process.js';

const ONE_TOKEN = { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 };

// Claude Code writes this model name on lines that are not real usage; nothing prices it.
const NOT_A_MODEL = '<synthetic>';

/** Every model name under a `model`, `models` or `ladder` key of a parsed document. */
function modelsIn(value: unknown, key = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) {
      if (typeof v === 'string' && (key === 'models' || key === 'ladder')) out.add(v);
      else modelsIn(v, key, out);
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && k === 'model') out.add(v);
      else modelsIn(v, k, out);
    }
  }
  return out;
}

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath, e.name));
}

function unpriced(models: Iterable<string>): string[] {
  return [...models].filter((m) => m !== NOT_A_MODEL && priceOf(DEFAULT_PRICES, m, ONE_TOKEN) === undefined);
}

describe('the shipped price table', () => {
  it('prices every model the policy init template names, in its settings and in its example commands', () => {
    const models = modelsIn(parse(STARTER_POLICY));
    for (const m of STARTER_POLICY.matchAll(/--models ([\w.,-]+)/g)) {
      for (const name of (m[1] ?? '').split(',')) models.add(name);
    }
    expect(models.size).toBeGreaterThan(3);
    expect(unpriced(models)).toEqual([]);
  });

  it('prices every model the shipped simulator scenarios name', () => {
    const models = new Set<string>();
    for (const f of files(join(ROOT, 'docs/scenarios'), '.json')) {
      modelsIn(JSON.parse(readFileSync(f, 'utf8')), '', models);
    }
    expect(models.size).toBeGreaterThan(0);
    expect(unpriced(models)).toEqual([]);
  });

  it('prices every model of the agent log and status-line fixtures (dated snapshots by their base name)', () => {
    const models = new Set<string>();
    for (const f of [...files(FIXTURES, '.jsonl'), ...files(FIXTURES, '.json')]) {
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        // Fixtures deliberately hold malformed lines; only the model names matter here.
        for (const m of line.matchAll(/"(?:model|id)":\s*"((?:claude|gpt|o\d)[^"]*)"/g))
          models.add(m[1] ?? '');
      }
    }
    expect(models).toContain('gpt-5.1-codex');
    expect(unpriced(models)).toEqual([]);
  });
});
