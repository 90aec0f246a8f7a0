import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { buildApp, createToken, migrate, openDatabase, type Database } from '@mosaic/budget-api';
import {
  accountKindSchema,
  ceilingPeriodSchema,
  confidenceSchema,
  decimalSchema,
  durationSchema,
  idSchema,
  labelSchema,
  modelSchema,
  nonNegativeDecimalSchema,
  positiveDecimalSchema,
  timezoneSchema,
  tokenCountSchema,
  urgencySchema,
  usdSchema,
} from '@mosaic/budget-core';
import { main } from '../main.js';
import { whenFlag } from '../when.js';
import { ensureBuilt, mosaic } from '../test-support/cli-process.js';

// Test 6 (CLI flags): every `mosaic budget` command that writes, and a few that read, get argv
// lists that are wrong in one way — a flag value its schema refuses, an unknown flag, a required
// flag left out, a flag without its value, stray arguments, an unknown command. Each must end with
// exit 2, a message that names what was wrong, no stack trace, and nothing written to the register.
// The CLI runs in this process (its `main`, as `bin.cts` calls it) for the bulk of the cases, and as
// real processes for a sample; both talk to one service on a loopback port, so the register can be
// fingerprinted around every case.

// Cases run in this process; each is a commander parse, a zod parse and at most a few loopback
// requests, so thousands fit in well under a minute. MOSAIC_REL_CLI_RUNS overrides.
const IN_PROCESS_RUNS = Number(process.env.MOSAIC_REL_CLI_RUNS ?? 4_000);
// Real processes: each costs a Node start-up (about a second on the shared machine).
const SPAWNED_RUNS = Number(process.env.MOSAIC_REL_CLI_SPAWNS ?? 40);
const STACK = /\n\s+at .+:\d+:\d+/;

/** What a flag's value must be; each kind is checked with the schema the command itself uses. */
type Kind =
  | 'id'
  | 'label'
  | 'model'
  | 'models'
  | 'zone'
  | 'usd'
  | 'positive'
  | 'tokens'
  | 'percent'
  | 'when'
  | 'urgency'
  | 'confidence'
  | 'kind'
  | 'period'
  | 'duration'
  | 'count'
  | 'rapid'
  | 'reason'
  | 'key'
  | 'arg';

const tokens = z.coerce.number().pipe(tokenCountSchema);
const percent = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().replace(/%$/, '') : v),
  nonNegativeDecimalSchema.refine((d) => d.lte(1000)),
);
const modelList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
  )
  .pipe(z.array(modelSchema).min(1));

const ACCEPTS: Record<Kind, (v: string) => boolean> = {
  id: (v) => idSchema.safeParse(v).success,
  label: (v) => labelSchema.safeParse(v).success,
  model: (v) => modelSchema.safeParse(v).success,
  models: (v) => modelList.safeParse(v).success,
  zone: (v) => timezoneSchema.safeParse(v).success,
  usd: (v) => usdSchema.safeParse(v).success,
  positive: (v) => positiveDecimalSchema.safeParse(v).success,
  tokens: (v) => tokens.safeParse(v).success,
  percent: (v) => percent.safeParse(v).success,
  when: (v) => {
    try {
      whenFlag('--x', v, 'UTC');
      return true;
    } catch {
      return false;
    }
  },
  urgency: (v) => urgencySchema.safeParse(v).success,
  confidence: (v) => confidenceSchema.safeParse(v).success,
  kind: (v) => accountKindSchema.safeParse(v).success,
  period: (v) => ceilingPeriodSchema.safeParse(v).success,
  duration: (v) => z.string().pipe(durationSchema).safeParse(v).success,
  count: (v) => z.coerce.number().int().positive().safeParse(v).success,
  rapid: (v) => decimalSchema.refine((d) => d.gt(1) && d.lte(1000)).safeParse(v).success,
  reason: (v) => v.length >= 1 && v.length <= 2000,
  key: (v) => v.length >= 1 && v.length <= 256,
  arg: (v) => v.length >= 1 && v.length <= 128,
};

interface FlagSpec {
  flag: string;
  kind: Kind;
  value: string;
  required?: boolean;
}

interface CommandSpec {
  path: string[];
  flags: FlagSpec[];
  /** A positional argument the command takes (its valid value and kind). */
  arg?: { value: string; kind: Kind };
  /** Whether the command changes the register when its flags are right. */
  writes: boolean;
}

const f = (flag: string, kind: Kind, value: string, required = false): FlagSpec => ({
  flag,
  kind,
  value,
  required,
});

// One valid command line per command: the base every case breaks in exactly one way. The writing
// ones run once as they are before the property starts, which proves them valid.
const COMMANDS: CommandSpec[] = [
  {
    path: ['set'],
    writes: true,
    flags: [
      f('--account', 'id', 'acct-a', true),
      f('--provider', 'id', 'anthropic'),
      f('--kind', 'kind', 'subscription'),
      f('--models', 'models', 'claude-opus-4,claude-sonnet-4'),
      f('--timezone', 'zone', 'America/Chicago'),
      f('--window', 'id', 'weekly'),
      f('--window-length', 'duration', 'P7D'),
      f('--reset-at', 'when', 'fri 17:00'),
      f('--confidence', 'confidence', 'user'),
    ],
  },
  {
    path: ['set'],
    writes: true,
    flags: [
      f('--account', 'id', 'acct-api', true),
      f('--provider', 'id', 'anthropic'),
      f('--kind', 'kind', 'api'),
      f('--models', 'models', 'claude-sonnet-4'),
      f('--timezone', 'zone', 'UTC'),
      f('--ceiling-usd', 'positive', '10.00'),
      f('--period', 'period', 'P1D'),
      f('--concurrency', 'count', '4'),
    ],
  },
  {
    path: ['signal'],
    writes: true,
    flags: [
      f('--account', 'id', 'acct-a', true),
      f('--window', 'id', 'weekly', true),
      f('--used', 'percent', '42%', true),
      f('--resets-at', 'when', 'fri 17:00'),
      f('--confidence', 'confidence', 'provider'),
      f('--observed-at', 'when', '2026-11-20T10:00:00Z'),
      f('--timezone', 'zone', 'America/Chicago'),
    ],
  },
  ...(['record', 'project'] as const).map((sub): CommandSpec => ({
    path: ['spend', sub],
    writes: true,
    flags: [
      f('--account', 'id', 'acct-api', true),
      f('--model', 'model', 'claude-sonnet-4', true),
      f('--task', 'label', `T-${sub}`, true),
      f('--mission', 'label', 'M-1'),
      f('--task-class', 'id', 'feature'),
      f('--input-tokens', 'tokens', '1200'),
      f('--output-tokens', 'tokens', '300'),
      f('--cache-read-tokens', 'tokens', '0'),
      f('--cache-write-tokens', 'tokens', '0'),
      f('--usd', 'usd', '0.05'),
      f('--at', 'when', '2026-11-20 10:00'),
      f('--idempotency-key', 'key', `rel-${sub}`),
      f('--agent', 'label', 'claude-code'),
      f('--host', 'label', 'rel-host'),
      f('--timezone', 'zone', 'UTC'),
    ],
  })),
  {
    path: ['gate'],
    writes: true,
    flags: [
      f('--task', 'label', 'T-gate', true),
      f('--class', 'id', 'feature', true),
      f('--model', 'model', 'claude-sonnet-4', true),
      f('--estimate-tokens', 'tokens', '1000'),
      f('--estimate-usd', 'usd', '0.01'),
      f('--account', 'id', 'acct-api'),
      f('--urgency', 'urgency', 'normal'),
      f('--deadline', 'when', 'in 2h'),
      f('--mission', 'label', 'M-1'),
      f('--agent', 'label', 'claude-code'),
      f('--host', 'label', 'rel-host'),
      f('--timezone', 'zone', 'UTC'),
    ],
  },
  ...[f('--rapid', 'rapid', '2'), f('--overspend-usd', 'usd', '1.00')].map((kind, i): CommandSpec => ({
    path: ['authorize'],
    writes: true,
    flags: [
      f('--account', 'id', 'acct-api'),
      f('--task-class', 'id', 'feature'),
      f('--mission', 'label', 'M-1'),
      kind,
      f('--until', 'when', 'in 2h', true),
      f('--from', 'when', '2026-11-20 00:00'),
      f('--reason', 'reason', 'release week', true),
      f('--id', 'key', `auth-rel-${i + 1}`),
      f('--by', 'key', 'ops'),
      f('--timezone', 'zone', 'UTC'),
    ],
  })),
  { path: ['revoke'], writes: true, flags: [], arg: { value: 'auth-rel-1', kind: 'arg' } },
  { path: ['status'], writes: false, flags: [f('--account', 'id', 'acct-a')] },
  {
    path: ['report'],
    writes: false,
    flags: [
      f('--mission', 'label', 'M-1'),
      f('--from', 'when', '2026-11-01'),
      f('--to', 'when', '2026-11-30'),
      f('--timezone', 'zone', 'UTC'),
    ],
  },
  {
    path: ['explain'],
    writes: false,
    flags: [f('--timezone', 'zone', 'UTC')],
    arg: { value: 'T-gate', kind: 'label' },
  },
];

const GLOBAL_FLAGS = ['--api', '--token', '--data-dir', '--tenant', '--json', '--help', '-h'];

// Values that break parsers: empty, blank, signs, exponents, NaN, huge, control characters, lone
// surrogates, combining marks, paths, SQL, impossible dates, unknown zones, negative durations.
const junkConstant = fc.constantFrom(
  '',
  ' ',
  '-1',
  '-0',
  '0',
  '1e999',
  '1e-999',
  'NaN',
  'Infinity',
  '0x10',
  '1,5',
  '١٢',
  '10%%',
  '1001%',
  '9'.repeat(400),
  '%00',
  '\u0000',
  '\ud800',
  'e\u0301',
  '\n',
  '\t',
  'x'.repeat(5_000),
  '../../etc/passwd',
  "'; drop table fleet.accounts; --",
  '${HOME}',
  '2026-02-30 25:00',
  '2026-13-01',
  'Not/AZone',
  'UTC+25',
  'P-1D',
  'PT0S',
  'P1Y2Q',
  'next tuesdayish',
  'fri 25:00',
  'in -3d',
  'null',
  '[]',
  '{}',
  'true',
);
const junk = fc.oneof(
  junkConstant,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

// Most strings are a valid free text; only an empty or an overlong one is not.
const LENGTH_LIMIT: Partial<Record<Kind, number>> = { reason: 2000, key: 256, arg: 128 };

/** Values the flag's schema refuses (filtered through the same schema, so none is accepted). */
function invalidValue(kind: Kind): fc.Arbitrary<string> {
  const limit = LENGTH_LIMIT[kind];
  if (limit !== undefined) return fc.constantFrom('', 'x'.repeat(limit + 1), 'é'.repeat(limit + 1));
  return junk.filter((v) => !ACCEPTS[kind](v));
}

/** One way of breaking a command line, with what the message must mention. */
type Mutation =
  | { type: 'bad-value'; index: number; value: string }
  | { type: 'bad-arg'; value: string }
  | { type: 'unknown-flag'; name: string; position: number }
  | { type: 'missing-required'; index: number }
  | { type: 'missing-value'; index: number }
  | { type: 'stray-args'; args: string[] }
  | { type: 'unknown-command'; name: string };

interface Case {
  command: CommandSpec;
  json: boolean;
  mutation: Mutation;
}

const flagName = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
  .filter((n) => !n.endsWith('-'))
  .map((n) => `--${n}`);

function caseOf(command: CommandSpec): fc.Arbitrary<Case> {
  const known = new Set([...GLOBAL_FLAGS, ...command.flags.map((x) => x.flag)]);
  const options: fc.Arbitrary<Mutation>[] = [
    flagName
      .filter((n) => !known.has(n))
      .chain((name) =>
        fc
          .integer({ min: 0, max: command.flags.length })
          .map((position): Mutation => ({ type: 'unknown-flag', name, position })),
      ),
    fc
      .array(
        junk.filter((v) => v !== '' && !v.startsWith('-')),
        { minLength: 1, maxLength: 3 },
      )
      .map((args): Mutation => ({ type: 'stray-args', args })),
    fc
      .stringMatching(/^[a-z][a-z-]{0,15}$/)
      .filter((n) => !COMMANDS.some((c) => c.path[0] === n) && !KNOWN_COMMANDS.has(n))
      .map((name): Mutation => ({ type: 'unknown-command', name })),
  ];
  if (command.flags.length > 0) {
    // A refused value goes through the command's zod schema or its time parser, the richest path,
    // so it is drawn three times as often as each other mutation.
    const badValue = fc.integer({ min: 0, max: command.flags.length - 1 }).chain((index) =>
      invalidValue(command.flags[index]!.kind).map((value): Mutation => ({
        type: 'bad-value',
        index,
        value,
      })),
    );
    options.push(
      badValue,
      badValue,
      badValue,
      fc
        .integer({ min: 0, max: command.flags.length - 1 })
        .map((index): Mutation => ({ type: 'missing-value', index })),
    );
  }
  const required = command.flags.flatMap((x, i) => (x.required ? [i] : []));
  if (required.length > 0) {
    options.push(
      fc.constantFrom(...required).map((index): Mutation => ({ type: 'missing-required', index })),
    );
  }
  if (command.arg) {
    const kind = command.arg.kind;
    options.push(invalidValue(kind).map((value): Mutation => ({ type: 'bad-arg', value })));
  }
  return fc.record({ command: fc.constant(command), json: fc.boolean(), mutation: fc.oneof(...options) });
}

// Every command and subcommand name `mosaic budget` has, so an "unknown command" really is one.
const KNOWN_COMMANDS = new Set([
  'set',
  'status',
  'gate',
  'signal',
  'spend',
  'authorize',
  'revoke',
  'authorizations',
  'policy',
  'explain',
  'queue',
  'report',
  'import',
  'statusline',
  'serve',
  'migrate',
  'token',
  'simulate',
  'help',
]);

const cases = fc.oneof(...COMMANDS.map(caseOf));

/** The argv after `budget`, and the words the error message must contain. */
function argvOf(c: Case, connection: string[]): { argv: string[]; mentions: string[] } {
  const pairs = c.command.flags.map((x) => [x.flag, x.value]);
  let path = [...c.command.path];
  let tail: string[] = c.command.arg ? [c.command.arg.value] : [];
  const m = c.mutation;
  let mentions: string[] = [];
  switch (m.type) {
    case 'bad-value':
      pairs[m.index] = [c.command.flags[m.index]!.flag, m.value];
      mentions = [c.command.flags[m.index]!.flag];
      break;
    case 'bad-arg':
      tail = [m.value];
      break;
    case 'unknown-flag':
      pairs.splice(m.position, 0, [m.name]);
      mentions = [`unknown option '${m.name}'`];
      break;
    case 'missing-required':
      mentions = [c.command.flags[m.index]!.flag, 'not specified'];
      pairs.splice(m.index, 1);
      break;
    case 'missing-value': {
      const [flag] = pairs.splice(m.index, 1)[0]!;
      pairs.push([flag!]);
      mentions = [flag!, 'argument missing'];
      break;
    }
    case 'stray-args':
      tail = [...tail, ...m.args];
      mentions = ['too many arguments'];
      break;
    case 'unknown-command':
      path = [m.name];
      mentions = [`unknown command '${m.name}'`];
      break;
  }
  // A flag without its value must come last, or it would take the next flag as its value.
  const flags = pairs.flat();
  const argv = [...connection, ...(c.json ? ['--json'] : []), ...path, ...tail, ...flags];
  return { argv, mentions };
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `main` as `bin.cts` does, with stdout and stderr captured. */
async function runInProcess(argv: string[]): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = (sink: (s: string) => void) =>
    ((chunk: string | Uint8Array) => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'mosaic', 'budget', ...argv]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
  }
}

/**
 * The message the CLI gave: under --json a usage error is a JSON document on stdout with a
 * `BUDGET_ERR_` code; otherwise (and for commander's own errors) an `error: …` line on stderr.
 */
function messageOf(r: Outcome): string {
  if (/^\s*\{/.test(r.stdout)) {
    const doc = JSON.parse(r.stdout) as { error?: { code?: string; message?: string } };
    expect(doc.error?.code).toMatch(/^BUDGET_ERR_/);
    return doc.error?.message ?? '';
  }
  expect(r.stderr).toMatch(/^error: \S/m);
  return r.stderr;
}

function check(c: Case, r: Outcome, mentions: string[]): void {
  const context = JSON.stringify({ case: c, stdout: r.stdout.slice(0, 500), stderr: r.stderr.slice(0, 500) });
  expect(r.code, context).toBe(2);
  expect(`${r.stdout}${r.stderr}`, context).not.toMatch(STACK);
  const message = messageOf(r);
  expect(message.trim().length, context).toBeGreaterThan(0);
  for (const word of mentions) expect(message, context).toContain(word);
}

// The register tables a command could write; api_tokens is left out because every authenticated
// request stamps its token's last use.
const TABLES = [
  'fleet.tenants',
  'fleet.accounts',
  'fleet.account_windows',
  'fleet.policies',
  'fleet.usage_signals',
  'fleet.window_state',
  'fleet.spend_ledger',
  'fleet.period_totals',
  'fleet.inflight',
  'fleet.authorizations',
  'fleet.reservations',
  'fleet.queue_entries',
  'fleet.gate_decisions',
] as const;

async function fingerprint(database: Database): Promise<string> {
  const parts: string[] = [];
  for (const table of TABLES) {
    const rows = await database.db.selectFrom(table).selectAll().execute();
    parts.push(
      `${table}:${rows
        .map((r) => JSON.stringify(r))
        .sort()
        .join('\n')}`,
    );
  }
  return parts.join('\n\n');
}

const tmp = mkdtempSync(join(tmpdir(), 'mosaic-cli-flags-'));
let database: Database;
let app: Awaited<ReturnType<typeof buildApp>>;
let connection: string[] = [];
const tally = new Map<string, number>();

beforeAll(async () => {
  await ensureBuilt();
  database = await openDatabase({ dataDir: join(tmp, 'data') });
  await migrate(database.db);
  const { token } = await createToken(database.db, { tenant: 'rel', scopes: ['admin'] });
  app = await buildApp({ database, background: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  connection = ['--api', `http://127.0.0.1:${port}`, '--token', token];
  // The base command lines, as they are: each must succeed (the gate may also queue or refuse).
  for (const command of COMMANDS.filter((x) => x.writes)) {
    const argv = [
      ...command.path,
      ...(command.arg ? [command.arg.value] : []),
      ...command.flags.flatMap((x) => [x.flag, x.value]),
    ];
    const before = await fingerprint(database);
    const r = await runInProcess([...connection, ...argv]);
    expect([0, 3, 4], `${argv.join(' ')}\n${r.stderr}`).toContain(r.code);
    // The fingerprint sees what this command writes, so "unchanged" below means something.
    expect(await fingerprint(database), argv.join(' ')).not.toBe(before);
  }
}, 300_000);

afterAll(async () => {
  await app.close();
  await database.close();
  rmSync(tmp, { recursive: true, force: true });
  console.info(`[reliability:cli-flags] ${JSON.stringify(Object.fromEntries(tally))}`);
});

describe('the CLI under hostile flags (test 6, CLI flags)', () => {
  it('answers every broken command line with exit 2, a message naming the fault, no stack trace, and no write (in process)', async () => {
    const before = await fingerprint(database);
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const { argv, mentions } = argvOf(c, connection);
        const r = await runInProcess(argv);
        check(c, r, mentions);
        if (c.command.writes) expect(await fingerprint(database), JSON.stringify(c)).toBe(before);
        tally.set(c.mutation.type, (tally.get(c.mutation.type) ?? 0) + 1);
      }),
      { numRuns: IN_PROCESS_RUNS, seed: 606 },
    );
    expect(await fingerprint(database)).toBe(before);
    console.info(
      `[reliability:cli-flags] ${IN_PROCESS_RUNS} in-process cases in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 600_000);

  it('does the same as a real process', async () => {
    const before = await fingerprint(database);
    // argv cannot carry a NUL byte into a process; those cases stay in process.
    const sample = fc.sample(
      cases.filter((c) => !JSON.stringify(c).includes('\\u0000')),
      { numRuns: SPAWNED_RUNS, seed: 607 },
    );
    const started = Date.now();
    for (const c of sample) {
      const { argv, mentions } = argvOf(c, connection);
      const r = await mosaic(argv, { HOME: tmp, MOSAIC_BUDGET_STATE_DIR: join(tmp, 'state') });
      check(c, r, mentions);
    }
    expect(await fingerprint(database)).toBe(before);
    console.info(
      `[reliability:cli-flags] ${sample.length} spawned cases in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 600_000);
});
