import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { policySchema } from '@mosaic/budget-core';
import type { Runner } from '../../action.js';
import { UsageError } from '../../errors.js';
import { parseFlags } from '../../flags.js';
import { call } from '../../transport/call.js';
import { diffDocuments } from './diff.js';
import { STARTER_POLICY } from './starter.js';

interface PolicyBody {
  version: number;
  policy: unknown;
  createdAt?: string;
  createdBy?: string;
}

/** Prints the live policy. */
export const runShow: Runner = async (ctx) => {
  const t = await ctx.transport();
  const body = await call<PolicyBody>(t, 'GET', '/v1/policy');
  if (ctx.json) {
    ctx.printJson({
      version: body.version,
      policy: body.policy,
      createdAt: body.createdAt,
      createdBy: body.createdBy,
    });
    return;
  }
  ctx.print(
    `# policy version ${body.version}${body.createdBy ? ` by ${body.createdBy}` : ''}${body.createdAt ? ` at ${body.createdAt}` : ''}`,
  );
  ctx.print(toYaml(body.policy ?? {}).trimEnd());
};

/** Reads and validates a policy file; every problem names its path in the file. */
export function readPolicyFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UsageError(
      `${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  const r = policySchema.safeParse(doc ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UsageError(
      `${file} is not a valid policy: ${lines.join('; ')}`,
      'see docs/policy.md for every field',
      {
        issues: r.error.issues,
      },
    );
  }
  return doc ?? {};
}

/** Validates, diffs against the live policy, and (unless --dry-run) applies. */
export const runApply: Runner = async (ctx, raw, args) => {
  const f = parseFlags(z.object({ dryRun: z.boolean().optional() }), raw);
  const file = parseFlags(z.string().min(1), args[0], 'mosaic budget policy apply <file>');
  const doc = readPolicyFile(file);
  const t = await ctx.transport();
  const live = await call<PolicyBody>(t, 'GET', '/v1/policy');
  const changes = diffDocuments(live.policy ?? {}, doc);
  let version = live.version;
  if (!f.dryRun && changes.length > 0) {
    version = (await call<{ version: number }>(t, 'PUT', '/v1/policy', doc)).version;
  }
  if (ctx.json) {
    ctx.printJson({ dryRun: f.dryRun === true, applied: !f.dryRun && changes.length > 0, version, changes });
    return;
  }
  const c = ctx.color;
  for (const ch of changes) {
    const show = (v: unknown): string => JSON.stringify(v);
    if (ch.op === 'added') ctx.print(c.green(`+ ${ch.path}: ${show(ch.after)}`));
    else if (ch.op === 'removed') ctx.print(c.red(`- ${ch.path}: ${show(ch.before)}`));
    else ctx.print(c.yellow(`~ ${ch.path}: ${show(ch.before)} → ${show(ch.after)}`));
  }
  if (changes.length === 0) ctx.print(`no changes against live version ${live.version}`);
  else if (f.dryRun)
    ctx.print(`dry run: ${changes.length} change(s) against live version ${live.version}; nothing applied`);
  else ctx.print(`applied: policy version ${version}`);
};

/** Writes the starter policy. */
export const runInit: Runner = (ctx, raw) => {
  const f = parseFlags(z.object({ out: z.string().min(1), force: z.boolean().optional() }), raw);
  if (f.out === '-') {
    process.stdout.write(STARTER_POLICY);
    return Promise.resolve();
  }
  if (existsSync(f.out) && !f.force) {
    throw new UsageError(`${f.out} exists`, 'pass --force to overwrite it, or --out another file');
  }
  writeFileSync(f.out, STARTER_POLICY, { flag: f.force ? 'w' : 'wx' });
  if (ctx.json) ctx.printJson({ written: f.out });
  else ctx.print(`wrote ${f.out}; check it with: mosaic budget policy apply ${f.out} --dry-run`);
  return Promise.resolve();
};
