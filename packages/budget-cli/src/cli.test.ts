import { cpSync, mkdtempSync, appendFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, FIXTURES, mosaic, serve, type Served } from './test-support/cli-process.js';
import { ccusageClaudeDaily, ccusageCodexDaily, type DayModelTotals } from './test-support/ccusage-rules.js';

interface ReportRow {
  day: string;
  model: string;
  actual: {
    inputTokens: number;
    outputTokens: number;
    cacheReadTokens: number;
    cacheWriteTokens: number;
    usd: string;
  };
}

const tmp = mkdtempSync(join(tmpdir(), 'mosaic-cli-'));
const dataDir = join(tmp, 'data');
// A private HOME and state dir: the tests never read or write the real user's config or offsets.
const env = { HOME: tmp, MOSAIC_BUDGET_STATE_DIR: join(tmp, 'state'), MOSAIC_BUDGET_HOST: 'test-host' };
const local = (args: string[], stdin?: string) => mosaic(['--data-dir', dataDir, ...args], env, stdin);

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

function byDayModel(rows: ReportRow[]): Map<string, ReportRow['actual']> {
  return new Map(rows.map((r) => [`${r.day}|${r.model}`, r.actual]));
}

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

// Each local-mode command opens the embedded database: seconds apiece on a loaded two-core machine.
describe('mosaic budget in local mode (embedded database in a temp dir)', { timeout: 600_000 }, () => {
  it('creates accounts and echoes a resolved reset in the account zone and UTC', async () => {
    const r = await local([
      'set',
      '--account',
      'max-a',
      '--provider',
      'anthropic',
      '--kind',
      'subscription',
      '--models',
      'claude-opus-4-1,claude-sonnet-4-5',
      '--timezone',
      'America/Chicago',
      '--reset-at',
      // Relative to today, so the test does not expire: a fixed date becomes the past in a week.
      'fri 17:00',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('error');
    expect(r.stdout).toContain('created account max-a');
    // Echoed in the account's zone and in UTC (17:00 Chicago is 23:00Z in winter, 22:00Z in summer).
    expect(r.stdout).toMatch(
      /Fri \d{1,2} \w{3} \d{4} 17:00 C[SD]T \(\d{4}-\d\d-\d\dT2[23]:00:00Z\) \[user\]/,
    );
    const codex = await local([
      '--json',
      'set',
      '--account',
      'codex-plus',
      '--provider',
      'openai',
      '--kind',
      'subscription',
      '--models',
      'gpt-5-codex',
    ]);
    expect(codex.code).toBe(0);
    expect(json<{ created: boolean }>(codex.stdout).created).toBe(true);
    const session = await local([
      'set',
      '--account',
      'max-a',
      '--window',
      'session',
      '--window-length',
      'PT5H',
      '--rolling',
    ]);
    expect(session.code).toBe(0);
  });

  it('rejects bad flags and bad dates with exit 2, a clear message, and no change', async () => {
    const badWhen = await local(['set', '--account', 'max-a', '--reset-at', 'next tuesdayish']);
    expect(badWhen.code).toBe(2);
    expect(badWhen.stderr).toContain('--reset-at: cannot read the time "next tuesdayish"');
    expect(badWhen.stderr).toContain('"fri 17:00"');
    const badUsed = await local(['signal', '--account', 'max-a', '--window', 'weekly', '--used', 'lots']);
    expect(badUsed.code).toBe(2);
    expect(badUsed.stderr).toContain('--used');
    const badId = await local([
      '--json',
      'set',
      '--account',
      'bad id!',
      '--provider',
      'x',
      '--kind',
      'api',
      '--models',
      'm',
    ]);
    expect(badId.code).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(badId.stdout).error.message).toContain(
      '--account',
    );
    const unknownFlag = await local(['status', '--colour']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("unknown option '--colour'");
    const after = await local(['--json', 'status']);
    expect(
      json<{ accounts: { account: string }[] }>(after.stdout)
        .accounts.map((a) => a.account)
        .sort(),
    ).toEqual(['codex-plus', 'max-a']);
  });

  it('records a signal and shows it in status, as a table and as JSON', async () => {
    const s = await local(['signal', '--account', 'max-a', '--window', 'weekly', '--used', '42%']);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('max-a/weekly: 42% used');
    const table = await local(['status']);
    expect(table.stdout).toMatch(/ACCOUNT\s+WINDOW\s+USED/);
    expect(table.stdout).toMatch(/max-a\s+weekly\s+42\.0%/);
  });

  it('imports Claude Code logs with ccusage-equal per-day per-model totals, incrementally and idempotently', async () => {
    const logs = join(tmp, 'claude');
    cpSync(join(FIXTURES, 'claude-code'), logs, { recursive: true });
    const first = await local(['--json', 'import', 'claude-code', '--account', 'max-a', '--path', logs]);
    expect(first.code).toBe(0);
    const summary = json<{
      entries: number;
      malformed: number;
      deduplicated: number;
      signals: { sent: number };
    }>(first.stdout);
    expect(summary).toMatchObject({ entries: 7, malformed: 1, deduplicated: 2 });
    expect(summary.signals.sent).toBe(1);

    const again = await local(['--json', 'import', 'claude-code', '--account', 'max-a', '--path', logs]);
    expect(json<{ entries: number; bytesRead: number }>(again.stdout)).toMatchObject({
      entries: 0,
      bytesRead: 0,
    });

    // New bytes appended to a transcript: only they are read.
    const line = JSON.stringify({
      sessionId: 's1',
      requestId: 'req_07',
      timestamp: '2026-11-21T10:00:00.000Z',
      message: {
        id: 'msg_07',
        model: 'claude-sonnet-4-5-20250929',
        usage: { input_tokens: 9, output_tokens: 9 },
      },
    });
    appendFileSync(join(logs, 'projects/-home-dev-app/s1.jsonl'), `${line}\n`);
    const third = await local(['--json', 'import', 'claude-code', '--account', 'max-a', '--path', logs]);
    expect(json<{ entries: number; lines: number }>(third.stdout)).toMatchObject({ entries: 1, lines: 1 });

    // Forgetting the offsets re-reads everything and writes nothing twice.
    const full = await local([
      '--json',
      'import',
      'claude-code',
      '--account',
      'max-a',
      '--path',
      logs,
      '--full',
    ]);
    expect(json<{ inserted: number; duplicates: number }>(full.stdout)).toMatchObject({
      inserted: 0,
      duplicates: 8,
    });

    const report = await local(['--json', 'report', '--group-by', 'day,model', '--timezone', 'UTC']);
    expect(report.code).toBe(0);
    const rows = byDayModel(json<{ rows: ReportRow[] }>(report.stdout).rows);
    const expected = ccusageClaudeDaily(logs);
    expect([...rows.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, e] of expected) {
      const got = rows.get(key);
      expect({
        key,
        input: got?.inputTokens,
        output: got?.outputTokens,
        cw: got?.cacheWriteTokens,
        cr: got?.cacheReadTokens,
      }).toEqual({
        key,
        input: e.input,
        output: e.output,
        cw: e.cacheCreation,
        cr: e.cacheRead,
      });
    }
  });

  it('imports Codex session logs with ccusage-equal totals (our input + cache read = Codex input)', async () => {
    const logs = join(tmp, 'codex');
    cpSync(join(FIXTURES, 'codex'), logs, { recursive: true });
    await local(['set', '--account', 'codex-plus', '--window', 'weekly', '--window-length', 'P7D']);
    const r = await local(['--json', 'import', 'codex', '--account', 'codex-plus', '--path', logs]);
    expect(r.code).toBe(0);
    const s = json<{
      entries: number;
      malformed: number;
      signals: { sent: number; skippedWindows: Record<string, number> };
    }>(r.stdout);
    expect(s).toMatchObject({ entries: 4, malformed: 1 });
    expect(s.signals.sent).toBe(1);
    expect(s.signals.skippedWindows).toEqual({ session: 1 });
    const report = await local(['--json', 'report', '--group-by', 'day,model', '--timezone', 'UTC']);
    const rows = byDayModel(json<{ rows: ReportRow[] }>(report.stdout).rows);
    const expected: Map<string, DayModelTotals> = ccusageCodexDaily(logs);
    for (const [key, e] of expected) {
      const got = rows.get(key);
      expect({
        key,
        input: (got?.inputTokens ?? 0) + (got?.cacheReadTokens ?? 0),
        cached: got?.cacheReadTokens,
        output: got?.outputTokens,
      }).toEqual({
        key,
        input: e.input,
        cached: e.cacheRead,
        output: e.output,
      });
    }
  });

  it('prints the Markdown report by default', async () => {
    const r = await local(['report']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# Spend report');
  });

  it('validates a policy file: init writes a valid starter, apply --dry-run changes nothing, a bad file exits 2', async () => {
    const file = join(tmp, 'policy.yaml');
    expect((await local(['policy', 'init', '--out', file])).code).toBe(0);
    const dry = await local(['--json', 'policy', 'apply', file, '--dry-run']);
    expect(dry.code).toBe(0);
    const d = json<{ applied: boolean; changes: { path: string }[] }>(dry.stdout);
    expect(d.applied).toBe(false);
    expect(d.changes.map((c) => c.path)).toContain('ladder');
    const shown = await local(['--json', 'policy', 'show']);
    expect(json<{ version: number }>(shown.stdout).version).toBeLessThanOrEqual(1);
    const bad = join(tmp, 'bad.yaml');
    appendFileSync(bad, 'ladder: 7\nreservations: { ttl: soon }\n');
    const r = await local(['policy', 'apply', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ladder');
    expect(r.stderr).toContain('reservations.ttl');
    const applied = await local(['--json', 'policy', 'apply', file]);
    expect(json<{ applied: boolean }>(applied.stdout).applied).toBe(true);
  });
});

describe('mosaic budget against a started service (remote mode)', { timeout: 120_000 }, () => {
  let server: Served | undefined;
  const remoteDir = join(tmp, 'served');

  beforeAll(async () => {
    server = await serve(remoteDir, env);
  }, 120_000);

  afterAll(() => {
    server?.child.kill('SIGTERM');
  });

  const remote = (args: string[], stdin?: string) =>
    mosaic(['--api', server?.url ?? '', '--token', server?.token ?? '', ...args], env, stdin);

  it('refuses local mode on a data dir a running serve holds, naming the holder and suggesting --api', async () => {
    const r = await mosaic(['--data-dir', remoteDir, 'status'], env);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/in use by pid \d+/);
    expect(r.stderr).toContain('--api');
  });

  it('works over HTTP with the printed admin token', async () => {
    const set = await remote([
      'set',
      '--account',
      'max-b',
      '--provider',
      'anthropic',
      '--kind',
      'subscription',
      '--models',
      'claude-sonnet-4-5',
    ]);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('created account max-b');
    const status = await remote(['--json', 'status']);
    expect(json<{ accounts: { account: string }[] }>(status.stdout).accounts.map((a) => a.account)).toEqual([
      'max-b',
    ]);
  });

  it('records the status line rate limits and prints one line', async () => {
    await remote(['set', '--account', 'max-b', '--window', 'weekly', '--window-length', 'P7D']);
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
    const input = readFileSync(join(FIXTURES, 'statusline.json'), 'utf8');
    const r = await remote(['statusline', '--account', 'max-b'], input);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('5h 23.5%');
    expect(r.stdout).toContain('7d 41.2%');
    const status = await remote(['--json', 'status', '--account', 'max-b']);
    // The fixture's resets are fixed instants, so only the recorded windows are checked, not their pace.
    const windows = json<{ accounts: { windows: { window: string }[] }[] }>(status.stdout).accounts[0]
      ?.windows;
    expect(windows?.map((w) => w.window).sort()).toEqual(['session', 'weekly']);
  });

  it('gate exits 0 on allow and 4 on refuse, with the decision in --json', async () => {
    const set = await remote([
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
      '100',
      '--period',
      'P1M',
    ]);
    expect(set.code).toBe(0);
    const allow = await remote([
      '--json',
      'gate',
      '--task',
      'T-allow',
      '--class',
      'review',
      '--model',
      'claude-sonnet-4-5',
      '--account',
      'api-k',
      '--estimate-usd',
      '1',
    ]);
    expect(allow.code).toBe(0);
    expect(json<{ decision: string; account: string }>(allow.stdout)).toMatchObject({
      decision: 'allow',
      account: 'api-k',
    });
    // Larger than the whole $100 ceiling: no wait can make it fit.
    const refuse = await remote([
      'gate',
      '--task',
      'T-refuse',
      '--class',
      'review',
      '--model',
      'claude-sonnet-4-5',
      '--account',
      'api-k',
      '--estimate-usd',
      '5000',
    ]);
    expect(refuse.code).toBe(4);
    expect(refuse.stdout).toMatch(/^refuse/);
    const badDeadline = await remote([
      'gate',
      '--task',
      'T-x',
      '--class',
      'review',
      '--model',
      'm',
      '--deadline',
      'soonish',
    ]);
    expect(badDeadline.code).toBe(2);
    expect(badDeadline.stderr).toContain('--deadline');
  });

  it('a status line without rate_limits still prints and exits 0', async () => {
    const input = readFileSync(join(FIXTURES, 'statusline-no-limits.json'), 'utf8');
    const r = await remote(['statusline', '--account', 'max-b'], input);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('max-b');
  });

  it('a wrong token exits 5 with the service code and a hint', async () => {
    const r = await mosaic(['--api', server?.url ?? '', '--token', 'nope', 'status'], env);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('hint:');
  });

  it('an unreachable service exits 6', async () => {
    const r = await mosaic(['--api', 'http://127.0.0.1:9', '--token', 't', 'status'], env);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('cannot reach the service');
  });
});
