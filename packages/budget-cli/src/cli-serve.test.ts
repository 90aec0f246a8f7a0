import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, mosaic, serveJson, type ServedJson } from './test-support/cli-process.js';

// Real processes: the built CLI, a real `serve` on PGlite, and local mode on its own data directory.
const tmp = mkdtempSync(join(tmpdir(), 'mosaic-cli-serve-'));
const env = { HOME: tmp, MOSAIC_BUDGET_STATE_DIR: join(tmp, 'state'), MOSAIC_BUDGET_HOST: 'test-host' };

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Claude Code's status-line JSON with resets relative to now, so the pace is meaningful. */
function statusLineInput(fiveHourUsed: number, sevenDayUsed: number): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    session_id: 's1',
    model: { id: 'claude-sonnet-4-5', display_name: 'Sonnet 4.5' },
    rate_limits: {
      // Half of the 5-hour window is left: the ideal line stands at 50%.
      five_hour: { used_percentage: fiveHourUsed, resets_at: now + 9000 },
      seven_day: { used_percentage: sevenDayUsed, resets_at: now + 3 * 86_400 },
    },
  });
}

const SUBSCRIPTION = ['--provider', 'anthropic', '--kind', 'subscription', '--models', 'claude-sonnet-4-5'];

/** The three gate calls that fill a $10 ceiling: allow $8 (exit 0), queue $5 (exit 3), refuse $50 (exit 4). */
async function gateThreeWays(run: (args: string[]) => ReturnType<typeof mosaic>): Promise<void> {
  const set = await run([
    'set',
    '--account',
    'api-k',
    '--provider',
    'anthropic',
    '--kind',
    'api',
    '--models',
    'claude-sonnet-4-5',
    '--ceiling-usd',
    '10',
    '--period',
    'P1M',
  ]);
  expect(set.code).toBe(0);
  const gate = (task: string, usd: string, ...more: string[]) =>
    run([
      ...more,
      'gate',
      '--task',
      task,
      '--class',
      'review',
      '--model',
      'claude-sonnet-4-5',
      '--account',
      'api-k',
      '--estimate-usd',
      usd,
    ]);
  const allow = await gate('T-fill', '8');
  expect(allow.code).toBe(0);
  expect(allow.stdout).toMatch(/^allow on api-k/);
  // The reservation of T-fill holds $8 of the $10 until the period ends: $5 must wait.
  const queued = await gate('T-wait', '5', '--json');
  expect(queued.code).toBe(3);
  expect(json<{ decision: string; retryAt?: string }>(queued.stdout)).toMatchObject({ decision: 'queue' });
  expect(json<{ retryAt?: string }>(queued.stdout).retryAt).toBeDefined();
  const queuedWords = await gate('T-wait-2', '5');
  expect(queuedWords.code).toBe(3);
  expect(queuedWords.stdout).toMatch(/^queue on api-k/);
  // More than the whole ceiling: no wait makes it fit.
  const refused = await gate('T-never', '50');
  expect(refused.code).toBe(4);
  expect(refused.stdout).toMatch(/^refuse/);
}

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe(
  'serve --json, the lock hint and the status-line spool (a real service)',
  { timeout: 240_000 },
  () => {
    const dataDir = join(tmp, 'served');
    let served: ServedJson | undefined;
    let url = '';
    let token = '';
    const remote = (args: string[], stdin?: string) =>
      mosaic(['--api', url, '--token', token, ...args], env, stdin);

    beforeAll(async () => {
      served = await serveJson(dataDir, env);
      const listening = served.events[0] ?? {};
      url = String(listening.url);
      token = String(listening.adminToken);
    }, 240_000);

    afterAll(() => {
      served?.child.kill('SIGTERM');
    });

    it('prints one JSON object per line: url, data dir, pid, and the admin token once', () => {
      const lines = served?.stdout().trim().split('\n') ?? [];
      expect(lines).toHaveLength(1);
      const listening = json<Record<string, unknown>>(lines[0] ?? '');
      expect(listening).toMatchObject({
        event: 'listening',
        database: 'pglite',
        dataDir,
        pid: served?.child.pid,
        tenant: 'default',
      });
      expect(listening.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(listening.adminToken).toMatch(/^mbt_/);
    });

    it('records its URL in the lock, and a refused local command names that URL', async () => {
      const lock = json<{ pid: number; url?: string }>(
        readFileSync(join(dataDir, 'mosaic-budget.lock'), 'utf8'),
      );
      expect(lock).toMatchObject({ pid: served?.child.pid, url });
      const r = await mosaic(['--data-dir', dataDir, 'status'], env);
      expect(r.code).toBe(6);
      expect(r.stderr).toContain(`--api ${url} --token`);
      expect(r.stderr).not.toContain('8787');
    });

    it('gate exits 0 on allow, 3 on queue (a filled ceiling) and 4 on refuse', async () => {
      await gateThreeWays(remote);
    });

    it('statusline prints the pace from the piped JSON alone and records the signals with one POST', async () => {
      expect((await remote(['set', '--account', 'max-b', ...SUBSCRIPTION])).code).toBe(0);
      await remote([
        'set',
        '--account',
        'max-b',
        '--window',
        'session',
        '--window-length',
        'PT5H',
        '--rolling',
      ]);
      await remote(['set', '--account', 'max-b', '--window', 'weekly', '--window-length', 'P7D']);
      const r = await remote(['statusline', '--account', 'max-b'], statusLineInput(70, 10));
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      // 70% used where the ideal line stands at 50%: 20 points ahead (give or take the seconds it ran).
      expect(r.stdout).toMatch(/^max-b · claude-sonnet-4-5 │ 5h 70% \+(19\.9|20\.0) ahead ↻2h30m │ 7d 10% /);
      expect(r.stdout).not.toContain('(budget:');
      const status = await remote(['--json', 'status', '--account', 'max-b']);
      const windows = json<{ accounts: { windows: { window: string; usedPercent: string }[] }[] }>(
        status.stdout,
      ).accounts[0]?.windows;
      expect(windows?.find((w) => w.window === 'session')?.usedPercent).toBe('70');
    });

    it('statusline in local mode spools beside the running service, which lands it within its drain interval', async () => {
      const r = await mosaic(
        ['--data-dir', dataDir, 'statusline', '--account', 'max-b'],
        env,
        statusLineInput(42, 11),
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('5h 42%');
      let used: string | undefined;
      // The service drains every 5 s; a loaded machine gets a generous margin.
      for (let i = 0; i < 60 && used !== '42'; i++) {
        await new Promise((done) => setTimeout(done, 500));
        const status = await remote(['--json', 'status', '--account', 'max-b']);
        used = json<{ accounts: { windows: { window: string; usedPercent: string }[] }[] }>(
          status.stdout,
        ).accounts[0]?.windows.find((w) => w.window === 'session')?.usedPercent;
      }
      expect(used).toBe('42');
      expect(readdirSync(join(dataDir, 'statusline-spool'))).toEqual([]);
      expect(served?.events.some((e) => e.event === 'spool-drained' && e.landed === 2)).toBe(true);
    });

    it('shows the admin token only on the start that created it', async () => {
      const first = served;
      await new Promise<void>((done) => {
        first?.child.once('exit', () => done());
        first?.child.kill('SIGTERM');
      });
      served = await serveJson(dataDir, env);
      const listening = served.events[0] ?? {};
      expect(listening).toMatchObject({ event: 'listening', adminToken: null, pid: served.child.pid });
      expect(served.stdout()).not.toContain('mbt_');
      url = String(listening.url);
      // The token printed by the first start still works against the second.
      expect((await remote(['status'])).code).toBe(0);
    });

    it('a status line whose service is unreachable still prints, says so, and exits 0', async () => {
      const r = await mosaic(
        ['--api', 'http://127.0.0.1:9', '--token', 't', 'statusline', '--account', 'max-b'],
        env,
        statusLineInput(1, 1),
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^max-b · claude-sonnet-4-5 │ 5h 1% .*\(budget: unreachable\)$/m);
    });
  },
);

describe('statusline against a service that accepts connections and never answers', () => {
  it('gives up after its timeout, still prints the line, says why, and exits 0', async () => {
    // A real listener that takes the connection and never replies: a hung service.
    const hung = createServer(() => undefined);
    await new Promise<void>((done) => hung.listen(0, '127.0.0.1', done));
    const address = hung.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const r = await mosaic(
        ['--api', `http://127.0.0.1:${port}`, '--token', 't', 'statusline', '--account', 'max-b'],
        env,
        statusLineInput(3, 4),
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^max-b · claude-sonnet-4-5 │ 5h 3% .*\(budget: timeout\)$/m);
    } finally {
      hung.close();
    }
  });
});

describe('gate exit statuses and the spool in local mode (embedded database)', { timeout: 600_000 }, () => {
  const dataDir = join(tmp, 'local');
  const local = (args: string[], stdin?: string) => mosaic(['--data-dir', dataDir, ...args], env, stdin);

  it('gate exits 0 on allow, 3 on queue (a filled ceiling) and 4 on refuse', async () => {
    await gateThreeWays(local);
  });

  it('the next command lands spooled signals exactly once, and reports a corrupt spool line without failing', async () => {
    expect((await local(['set', '--account', 'max-a', ...SUBSCRIPTION])).code).toBe(0);
    expect(
      (
        await local([
          'set',
          '--account',
          'max-a',
          '--window',
          'session',
          '--window-length',
          'PT5H',
          '--rolling',
        ])
      ).code,
    ).toBe(0);
    const sl = await local(['statusline', '--account', 'max-a'], statusLineInput(33, 5));
    expect(sl.code).toBe(0);
    const spool = join(dataDir, 'statusline-spool');
    const files = readdirSync(spool);
    expect(files).toHaveLength(1);
    // Only the session window exists on max-a: the weekly signal is refused and reported.
    appendFileSync(join(spool, files[0] ?? ''), 'not json at all\n');
    const status = await local(['--json', 'status', '--account', 'max-a']);
    expect(status.code).toBe(0);
    expect(status.stderr).toMatch(/skipped corrupt line 3 of .*: not JSON/);
    expect(status.stderr).toMatch(/dropped the signal on line 2 .*weekly/);
    const windows = json<{ accounts: { windows: { window: string; usedPercent: string }[] }[] }>(
      status.stdout,
    ).accounts[0]?.windows;
    expect(windows?.find((w) => w.window === 'session')?.usedPercent).toBe('33');
    expect(readdirSync(spool)).toEqual([]);
    const again = await local(['status', '--account', 'max-a']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
  });
});
