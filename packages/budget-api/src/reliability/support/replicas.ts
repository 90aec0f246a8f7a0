import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { sleep } from './rng.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
/** The built service module the replicas run (never the TypeScript source: Node 20 runs dist/). */
export const SERVER_JS = join(ROOT, 'packages/budget-api/dist/server.js');

function newestSource(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'test-support' || e.name === 'reliability') continue;
      m = Math.max(m, newestSource(p));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
      m = Math.max(m, statSync(p).mtimeMs);
    }
  }
  return m;
}

/**
 * Builds the service (`tsc -b packages/budget-api`) when its dist/ is missing or older than a source
 * file, so a local `npx vitest run` never tests stale code. CI's `pnpm test` builds first, making this
 * a no-op there. A lock directory keeps two test files from building at once.
 */
export async function ensureApiBuilt(): Promise<void> {
  const stale = (): boolean => {
    const src = Math.max(
      ...['budget-core', 'budget-api'].map((p) => newestSource(join(ROOT, 'packages', p, 'src'))),
    );
    return !existsSync(SERVER_JS) || statSync(SERVER_JS).mtimeMs < src;
  };
  if (!stale()) return;
  const lock = join(tmpdir(), 'mosaic-api-build.lock');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another file is building; a lock older than five minutes is left over from a killed run.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      if (i > 600) throw new Error(`waited too long for ${lock}`);
      await sleep(500);
    }
  }
  try {
    if (!stale()) return;
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'packages/budget-api'],
        { cwd: ROOT, timeout: 300_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`build failed: ${stdout}${stderr}`)) : resolve(),
      );
    }).catch((error: unknown) => {
      // In a shared working tree another engineer's half-saved file can break the build; locally the
      // last good dist/ is still worth testing, but CI (which built first) must never get this far.
      if (process.env.CI === 'true' || !existsSync(SERVER_JS)) throw error;
      console.warn(`[reliability] testing the existing dist/: ${String(error).slice(0, 300)}`);
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A bearer token in the shape the service issues, chosen by the test (stored as the bootstrap admin). */
export function newToken(): string {
  return `mbt_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}

/** One spawned service process. */
export interface Replica {
  child: ChildProcess;
  url: string;
  /** Everything it printed (stdout and stderr: its structured log). */
  output(): string;
  /** SIGTERM and wait (graceful shutdown). */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash at whatever point it is. */
  kill(): Promise<void>;
}

/** What a replica is started with. */
export interface ReplicaOptions {
  databaseUrl?: string;
  dataDir?: string;
  token: string;
  tenant?: string;
  logLevel?: string;
  timeoutMs?: number;
}

// Every replica a test file started, so its log can be checked for secrets and nothing outlives the file.
const started: Replica[] = [];
const printed: string[] = [];

function script(options: ReplicaOptions): string {
  const args = {
    port: 0,
    host: '127.0.0.1',
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    bootstrapToken: options.token,
    bootstrapTenant: options.tenant ?? 'default',
    logLevel: options.logLevel ?? 'info',
  };
  return `import { startServer } from ${JSON.stringify(pathToFileURL(SERVER_JS).href)};
try { await startServer(${JSON.stringify(args)}); }
catch (error) { process.stderr.write('mosaic budget service failed to start: ' + (error && error.code ? error.code + ': ' : '') + (error && error.message ? error.message : String(error)) + '\\n'); process.exit(1); }`;
}

/** Starts the built service as its own process on a free loopback port; resolves once it listens. */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script(options)], {
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timeoutMs = options.timeoutMs ?? 240_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = (): void => {
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with ${code}:\n${out}`));
    });
  });
  const replica: Replica = {
    child,
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(forced);
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  started.push(replica);
  return replica;
}

/** Starts `count` replicas at once on one database. */
export function startReplicas(count: number, options: ReplicaOptions): Promise<Replica[]> {
  return Promise.all(Array.from({ length: count }, () => startReplica(options)));
}

/** Stops every replica this file started (SIGKILL after 20 s) and keeps their logs for {@link leakedSecrets}. */
export async function stopAll(): Promise<void> {
  const all = started.splice(0);
  await Promise.all(all.map((r) => r.stop()));
  printed.push(...all.map((r) => r.output()));
}

/**
 * The log lines of every replica this file started that show a bearer token or an Authorization
 * header: the service must never log either.
 */
export function leakedSecrets(tokens: string[]): string[] {
  const lines = [...printed, ...started.map((r) => r.output())].join('\n').split('\n');
  return lines.filter(
    (line) =>
      /mbt_[0-9a-f]{16}_/.test(line) ||
      /bearer\s+\S/i.test(line) ||
      /"authorization"\s*:\s*"(?!\[redacted\])/i.test(line) ||
      tokens.some((t) => t.length > 0 && line.includes(t)),
  );
}
