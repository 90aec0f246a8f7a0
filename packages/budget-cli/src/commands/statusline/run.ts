import { DateTime, Settings } from 'luxon';
import { parseStatusLine, statusLinePace } from '@mosaic/budget-core/statusline';
import type { Runner } from '../../action.js';
import { paletteFor } from '../../output/color.js';
import { resolveConnection } from '../../transport/resolve.js';
import type { WireSignal } from '../../spool/write.js';
import { earlyStatuslineFlags, type StatuslineFlags } from './args.js';
import { segment, statusLine } from './line.js';
import { sendSignals } from './record.js';

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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

type Recorded = { recorded: 'sent' | 'spooled' } | { problem: string };

/**
 * Records the signals where the register will read them: one POST to a service (remote mode), or a
 * spool file in the embedded database's data directory (local mode), never the database itself.
 * Resolves once the signals are on their way, to a promise of how they were recorded or of the
 * reason they were not (wrapped, so awaiting this does not wait for the service's answer).
 */
async function record(
  flags: StatuslineFlags,
  signals: WireSignal[],
): Promise<{ outcome: Promise<Recorded> }> {
  let c: Awaited<ReturnType<typeof resolveConnection>>;
  try {
    c = await resolveConnection(flags, process.env);
  } catch (error) {
    return {
      outcome: Promise.resolve({ problem: (error as { code?: string }).code ?? 'bad configuration' }),
    };
  }
  if (c.api) {
    const { sent, answer } = sendSignals(c.api, c.token, signals);
    await sent;
    return {
      outcome: answer.then((problem) => (problem === undefined ? { recorded: 'sent' } : { problem })),
    };
  }
  try {
    const { spoolSignals } = await import('../../spool/write.js');
    const dataDir = c.dataDir ?? (await import('env-paths')).default('mosaic-budget', { suffix: '' }).data;
    spoolSignals(dataDir, c.tenant, signals);
    return { outcome: Promise.resolve({ recorded: 'spooled' }) };
  } catch (error) {
    return {
      outcome: Promise.resolve({ problem: (error as { code?: string }).code ?? 'spool unavailable' }),
    };
  }
}

/**
 * Claude Code's status-line command: reads its JSON on stdin, prints one line (used %, pace against
 * the window's even line, time to reset) computed from that JSON alone, and records the rate limits
 * as signals. A status line must always print: every failure degrades to less information, exit 0.
 * Loaded by the bin before commander (see bin.cts), so it imports nothing it does not use.
 */
export async function runStatusline(flags: StatuslineFlags): Promise<number> {
  // Without a default locale luxon asks Intl for the system's, and that first Intl call loads ICU:
  // the largest single cost of the status line (docs/benchmarks.md). Nothing here is formatted for a
  // locale, and this process prints one line and exits.
  Settings.defaultLocale = 'en-US';
  const account = flags.account !== undefined && ACCOUNT.test(flags.account) ? flags.account : undefined;
  const now = DateTime.utc();
  const input = parseStatusLine(parseJson(await readStdin()), { now });
  const wire: WireSignal[] = account
    ? input.signals.map((s) => ({
        account,
        window: s.window,
        usedPercent: s.usedPercent.toString(),
        ...(s.resetAt ? { resetAt: s.resetAt.toUTC().toISO() ?? '' } : {}),
        confidence: s.confidence,
        observedAt: s.observedAt.toUTC().toISO() ?? '',
        source: s.source,
      }))
    : [];
  // The signals leave first: the line is computed while the service takes them.
  const recording = wire.length > 0 ? await record(flags, wire) : undefined;
  const paces = input.signals.map((s) => statusLinePace(s, now));
  const color = paletteFor(process.stdout);
  const parts = input.signals.map((s, i) => segment(color, s, paces[i]));
  const outcome = await recording?.outcome;
  const problem = outcome && 'problem' in outcome ? outcome.problem : undefined;
  if (flags.json) {
    const out = {
      account: account ?? null,
      model: input.model ?? null,
      signals: wire,
      pace: paces.flatMap((p) =>
        p
          ? [
              {
                window: p.window,
                usedPercent: p.usedPercent.toString(),
                idealPercent: p.idealPercent.toFixed(4),
                leadPercent: p.leadPercent.toFixed(4),
                status: p.status,
                resetInMs: p.resetInMs,
              },
            ]
          : [],
      ),
      recorded: outcome && 'recorded' in outcome ? outcome.recorded : null,
      ...(problem ? { problem } : {}),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${statusLine(color, [account, input.model], parts, problem)}\n`);
  return 0;
}

/**
 * The status line straight from the bin's arguments, before commander is loaded: its exit status,
 * or undefined when the command line is not one {@link earlyStatuslineFlags} recognises.
 */
export async function statuslineFromArgs(args: readonly string[]): Promise<number | undefined> {
  const flags = earlyStatuslineFlags(args);
  return flags ? runStatusline(flags) : undefined;
}

/** The same command reached through commander (help, or flags in a form the bin does not pre-read). */
export const run: Runner = (ctx, raw) =>
  runStatusline({
    ...ctx.globals,
    json: ctx.json,
    ...(typeof raw.account === 'string' ? { account: raw.account } : {}),
  });
