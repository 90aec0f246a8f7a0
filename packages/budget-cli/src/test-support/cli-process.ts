import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** The built CLI entry point. */
export const BIN = join(ROOT, 'packages/budget-cli/dist/bin.cjs');
/** The parser fixtures (logs written in the real formats). */
export const FIXTURES = join(ROOT, 'packages/budget-core/src/parsers/fixtures');

function newest(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) m = Math.max(m, newest(p));
    else if (e.name.endsWith('.ts')) m = Math.max(m, statSync(p).mtimeMs);
  }
  return m;
}

/** Builds the CLI (and what it depends on) when dist/ is missing or older than any source file. */
export async function ensureBuilt(): Promise<void> {
  const src = Math.max(
    ...['budget-core', 'budget-api', 'budget-cli'].map((p) => newest(join(ROOT, 'packages', p, 'src'))),
  );
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= src) return;
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'packages/budget-cli'],
      { cwd: ROOT, timeout: 300_000 },
      // In a shared working tree another package's unfinished file can fail the build while the CLI's
      // own output is fresh; a dist/ that exists is then used as is (CI builds everything first).
      (error, stdout, stderr) =>
        error && !existsSync(BIN) ? reject(new Error(`build failed: ${stdout}${stderr}`)) : resolve(),
    );
  });
}

/** What a finished CLI process left. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mosaic budget …` as a real process and collects its output and exit status. */
export function mosaic(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--no-deprecation', BIN, 'budget', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** A started `mosaic budget serve` with its URL and the admin token it printed. */
export interface Served {
  child: ChildProcess;
  url: string;
  token: string;
}

/**
 * Starts `serve` on a free port and waits for its URL and admin token lines. A data directory served
 * before prints no token (it is shown once): pass the one it printed then as `token`.
 */
export function serve(dataDir: string, env: NodeJS.ProcessEnv, token?: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--no-deprecation',
        BIN,
        'budget',
        '--data-dir',
        dataDir,
        'serve',
        '--port',
        '0',
        '--log-level',
        'silent',
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH, NO_COLOR: '1', ...env } },
    );
    let out = '';
    let url: string | undefined;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      url ??= /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const printed = token ?? /(mbt_[0-9a-f]{16}_[A-Za-z0-9_-]{43})/.exec(out)?.[1];
      if (url && printed) resolve({ child, url, token: printed });
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}${err}`)));
  });
}

/** A started `mosaic budget serve --json`: its process and the JSON lines it has printed so far. */
export interface ServedJson {
  child: ChildProcess;
  /** Every stdout line so far, parsed (serve --json prints one object per line). */
  events: Record<string, unknown>[];
  /** Raw stdout so far. */
  stdout: () => string;
}

/** Starts `serve --json` on a free port and resolves once it printed its `listening` object. */
export function serveJson(dataDir: string, env: NodeJS.ProcessEnv): Promise<ServedJson> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--no-deprecation',
        BIN,
        'budget',
        '--data-dir',
        dataDir,
        '--json',
        'serve',
        '--port',
        '0',
        '--log-level',
        'silent',
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH, NO_COLOR: '1', ...env } },
    );
    let out = '';
    const events: Record<string, unknown>[] = [];
    const served: ServedJson = { child, events, stdout: () => out };
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const lines = out.split('\n');
      for (const line of lines.slice(events.length, -1))
        events.push(JSON.parse(line) as Record<string, unknown>);
      if (events.some((e) => e.event === 'listening')) resolve(served);
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}${err}`)));
  });
}

/** The environment an import test's run `name` gets: a private HOME under `tmp` and its own state dir. */
export function importEnv(tmp: string, name: string): NodeJS.ProcessEnv {
  return { HOME: tmp, MOSAIC_BUDGET_STATE_DIR: join(tmp, `${name}-state`), MOSAIC_BUDGET_HOST: 'h' };
}

/** `import claude-code` of the transcripts under `logs` into account max-a, answering JSON. */
export function importArgs(logs: string): string[] {
  return ['--json', 'import', 'claude-code', '--account', 'max-a', '--path', logs];
}

/** A report per day and model in UTC, as JSON: what the import tests compare ledgers by. */
export const REPORT_ARGS = ['--json', 'report', '--group-by', 'day,model', '--timezone', 'UTC'];

/** `set` arguments for an Anthropic subscription account, as the import tests create the one they import into. */
export function subscriptionArgs(account: string, models: string[]): string[] {
  return [
    'set',
    '--account',
    account,
    '--provider',
    'anthropic',
    '--kind',
    'subscription',
    '--models',
    models.join(','),
  ];
}

/** Writes `mb` MB of seeded Claude Code transcripts in the real format into `out` (bench/gen-transcripts.mjs). */
export function generateTranscripts(out: string, mb: number, seed: number): void {
  execFileSync(process.execPath, [
    join(ROOT, 'bench/gen-transcripts.mjs'),
    '--out',
    out,
    '--mb',
    String(mb),
    '--seed',
    String(seed),
  ]);
}

/**
 * Calls `then` once an import run with this environment has recorded its first batch (its state file
 * appears under MOSAIC_BUDGET_STATE_DIR); returns a function that stops watching.
 */
export function onFirstRecordedBatch(env: NodeJS.ProcessEnv, then: () => void): () => void {
  const stateDir = join(env.MOSAIC_BUDGET_STATE_DIR as string, 'import-state');
  const poll = setInterval(() => {
    if (existsSync(stateDir) && readdirSync(stateDir).some((f) => f.endsWith('.json'))) {
      clearInterval(poll);
      then();
    }
  }, 5);
  return () => clearInterval(poll);
}
