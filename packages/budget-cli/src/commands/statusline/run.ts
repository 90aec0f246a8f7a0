import { DateTime } from 'luxon';
import { parseStatusLine, type SignalDraft } from '@mosaic/budget-core/statusline';
import type { Runner } from '../../action.js';
import type { CommandContext } from '../../context.js';
import { call, query } from '../../transport/call.js';

const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
// Claude Code waits for the status line; never let a slow or absent stdin hang the prompt.
const STDIN_TIMEOUT_MS = 1000;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      // A writer that never closes stdin must not keep the process (and the prompt) waiting.
      process.stdin.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    }, STDIN_TIMEOUT_MS);
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    process.stdin.on('error', () => {
      clearTimeout(timer);
      resolve('');
    });
  });
}

interface PaceWindow {
  window: string;
  /** Percentage points ahead (+) or behind (−) of the ideal line. */
  leadPercent?: string;
}

function short(dt: DateTime, now: DateTime): string {
  const mins = Math.max(0, Math.round(dt.diff(now).as('minutes')));
  if (mins >= 1440) return `${Math.floor(mins / 1440)}d${Math.floor((mins % 1440) / 60)}h`;
  if (mins >= 60) return `${Math.floor(mins / 60)}h${mins % 60}m`;
  return `${mins}m`;
}

function segment(ctx: CommandContext, s: SignalDraft, pace: PaceWindow | undefined, now: DateTime): string {
  const label = s.window === 'session' ? '5h' : s.window === 'weekly' ? '7d' : s.window;
  const used = `${Number(s.usedPercent.toFixed(1))}%`;
  const ahead = pace?.leadPercent !== undefined ? Number(pace.leadPercent) : undefined;
  const paceText =
    ahead === undefined
      ? ''
      : Math.abs(ahead) < 0.05
        ? ' on pace'
        : ahead > 0
          ? ` ${ctx.color.red(`+${ahead.toFixed(1)} ahead`)}`
          : ` ${ctx.color.green(`${(-ahead).toFixed(1)} behind`)}`;
  const reset = s.resetAt ? ` ↻${short(s.resetAt, now)}` : '';
  return `${label} ${used}${paceText}${reset}`;
}

/**
 * Records the status line's rate limits and prints one compact line. A status line must always print:
 * every failure (no rate_limits, service down, unknown window) degrades to less information, exit 0.
 */
export const run: Runner = async (ctx, raw) => {
  const account = typeof raw.account === 'string' && ACCOUNT.test(raw.account) ? raw.account : undefined;
  const now = DateTime.utc();
  const text = await readStdin();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const input = parseStatusLine(json, { now });
  let paceWindows: PaceWindow[] = [];
  let note = '';
  if (account && input.signals.length) {
    try {
      const t = await ctx.transport();
      await call(t, 'POST', '/v1/usage-signals', {
        signals: input.signals.map((s) => ({
          account,
          window: s.window,
          usedPercent: s.usedPercent.toString(),
          ...(s.resetAt ? { resetAt: s.resetAt.toUTC().toISO() } : {}),
          confidence: s.confidence,
          observedAt: s.observedAt.toUTC().toISO(),
          source: s.source,
        })),
      });
      const pace = await call<{ accounts: { account: string; windows: PaceWindow[] }[] }>(
        t,
        'GET',
        `/v1/pace${query({ account })}`,
      );
      paceWindows = pace.accounts[0]?.windows ?? [];
    } catch (error) {
      note = ` ${ctx.color.dim(`(budget: ${(error as { code?: string }).code ?? 'unavailable'})`)}`;
    }
  }
  if (ctx.json) {
    ctx.printJson({
      account,
      model: input.model,
      signals: input.signals.map((s) => ({ ...s, usedPercent: s.usedPercent.toString() })),
      pace: paceWindows,
    });
    return;
  }
  const parts = input.signals.map((s) =>
    segment(
      ctx,
      s,
      paceWindows.find((p) => p.window === s.window),
      now,
    ),
  );
  const head = [account, input.model].filter(Boolean).join(' · ');
  ctx.print(
    `${head}${head && parts.length ? ' │ ' : ''}${parts.join(' │ ') || (head ? '' : 'budget: no data')}${note}`,
  );
};
