import { DateTime } from 'luxon';

/** One trace step as it travels on the wire (see the core's TraceStep). */
export interface WireTraceStep {
  rule: string;
  outcome: 'pass' | 'fail' | 'info';
  account?: string;
  model?: string;
  window?: string;
  numbers?: Record<string, string>;
  note?: string;
}

function num(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? String(Math.round(n * 10) / 10) : v;
}

function at(v: string | undefined, zone: string): string | undefined {
  if (v === undefined) return undefined;
  const dt = DateTime.fromISO(v, { setZone: true });
  return dt.isValid ? dt.setZone(zone).toFormat('ccc HH:mm ZZZZ') : v;
}

/**
 * One trace step in plain words: "max-a is 6.1% ahead of pace" or "max-b has no claude-sonnet-4
 * headroom until Fri 17:00 CST". Steps the phrasebook does not know are shown by rule name and note.
 */
export function stepInWords(s: WireTraceStep, zone: string): string {
  const who = [s.account, s.window].filter(Boolean).join(' ') || 'the tenant';
  const n = s.numbers ?? {};
  if (n.used !== undefined && n.ideal !== undefined) {
    const lead = Number(n.used) - Number(n.ideal);
    const side = lead > 0 ? 'ahead of' : lead < 0 ? 'behind' : 'on';
    const amount = lead === 0 ? '' : `${num(String(Math.abs(lead)))}% `;
    const headroom = n.headroom !== undefined ? `, ${num(n.headroom)}% headroom` : '';
    return `${who} is ${amount}${side} pace (used ${num(n.used)}%, ideal ${num(n.ideal)}%${headroom})`;
  }
  const until = at(n.retryAt ?? n.resetAt ?? n.until, zone);
  if (s.outcome === 'fail' && s.model && until && !s.note)
    return `${who} has no ${s.model} headroom until ${until}`;
  const verdict = s.outcome === 'fail' ? 'fails' : s.outcome === 'pass' ? 'passes' : 'notes';
  const detail =
    s.note ??
    Object.entries(n)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return `${s.rule} ${verdict} for ${who}${s.model ? ` (${s.model})` : ''}${detail ? `: ${detail}` : ''}`;
}
