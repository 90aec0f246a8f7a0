import type { SignalDraft, StatusLinePace } from '@mosaic/budget-core/statusline';
import type { Palette } from '../../output/color.js';

/** "4d17h", "2h5m", "12m": the time to a reset, to the minute. */
export function shortDuration(ms: number): string {
  const mins = Math.max(0, Math.round(ms / 60_000));
  if (mins >= 1440) return `${Math.floor(mins / 1440)}d${Math.floor((mins % 1440) / 60)}h`;
  if (mins >= 60) return `${Math.floor(mins / 60)}h${mins % 60}m`;
  return `${mins}m`;
}

/** One window's part of the line: "7d 41.2% +8.7 ahead ↻4d17h". */
export function segment(color: Palette, s: SignalDraft, pace: StatusLinePace | undefined): string {
  const label = s.window === 'session' ? '5h' : s.window === 'weekly' ? '7d' : s.window;
  const used = `${Number(s.usedPercent.toFixed(1))}%`;
  let paceText = '';
  if (pace) {
    const lead = pace.leadPercent.toFixed(1);
    paceText =
      pace.status === 'on-pace'
        ? ' on pace'
        : pace.status === 'ahead'
          ? ` ${color.red(`+${lead} ahead`)}`
          : ` ${color.green(`${lead.replace(/^-/, '')} behind`)}`;
  }
  const reset = pace ? ` ↻${shortDuration(pace.resetInMs)}` : '';
  return `${label} ${used}${paceText}${reset}`;
}

/** The whole status line: "max-b · model │ 5h … │ 7d …", with a dim note when recording failed. */
export function statusLine(
  color: Palette,
  head: (string | undefined)[],
  parts: string[],
  problem: string | undefined,
): string {
  const h = head.filter(Boolean).join(' · ');
  const body = parts.join(' │ ');
  const text = `${h}${h && body ? ' │ ' : ''}${body}` || 'budget: no data';
  return problem ? `${text} ${color.dim(`(budget: ${problem})`)}` : text;
}
