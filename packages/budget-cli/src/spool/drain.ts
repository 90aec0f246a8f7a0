import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { usageSignalSchema } from '@mosaic/budget-core';
import { SPOOL_SUFFIX, spoolDir, spoolSignals, type WireSignal } from './write.js';

/** What a sink made of one batch: written, refused for good (4xx), or not now (service down). */
export type SinkAnswer =
  { status: 'ok' } | { status: 'rejected'; message: string } | { status: 'unavailable'; message: string };

/** Where drained signals go: the register of one tenant, all-or-nothing per call. */
export type SpoolSink = (tenant: string, signals: WireSignal[]) => Promise<SinkAnswer>;

/** A spool line that did not land, and why. */
export interface SpoolProblem {
  file: string;
  /** 1-based line number in the spool file. */
  line: number;
  reason: string;
}

/** What one drain did. */
export interface DrainReport {
  /** Spool files this drain claimed. */
  files: number;
  /** Signals written to the register. */
  landed: number;
  /** Lines that are not a spooled signal: skipped and reported, never fatal. */
  corrupt: SpoolProblem[];
  /** Signals the register refused (unknown account or window): dropped and reported. */
  rejected: SpoolProblem[];
  /** Signals put back in the spool because the register was unavailable. */
  deferred: number;
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
// A claimed file is named `<spool file>.claimed-<pid>-<random>`: the pid tells a later drain whether
// the claimer is still running or crashed mid-drain.
const CLAIMED = /^(.+\.jsonl)\.claimed-(\d+)-[0-9a-f]+$/;
// A dot-file is a spool file still being written; one this old was left by a writer that died.
const ABANDONED_TMP_MS = 3_600_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

interface Parsed {
  line: number;
  tenant: string;
  signal: WireSignal;
}

function parseLines(file: string, text: string, corrupt: SpoolProblem[]): Parsed[] {
  const out: Parsed[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    const problem = (reason: string): void => {
      corrupt.push({ file, line: i + 1, reason });
    };
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      problem('not JSON');
      continue;
    }
    const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    if (o.v !== 1 || typeof o.tenant !== 'string' || !TENANT.test(o.tenant)) {
      problem('not a spooled signal (expected {"v":1,"tenant":…,"signal":…})');
      continue;
    }
    const checked = usageSignalSchema.safeParse(o.signal);
    if (!checked.success) {
      problem(checked.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; '));
      continue;
    }
    out.push({ line: i + 1, tenant: o.tenant, signal: o.signal as WireSignal });
  }
  return out;
}

async function drainFile(
  dataDir: string,
  claimed: string,
  label: string,
  sink: SpoolSink,
  report: DrainReport,
): Promise<void> {
  const lines = parseLines(label, await readFile(claimed, 'utf8'), report.corrupt);
  const byTenant = new Map<string, Parsed[]>();
  for (const p of lines) byTenant.set(p.tenant, [...(byTenant.get(p.tenant) ?? []), p]);
  for (const [tenant, group] of byTenant) {
    const keep: Parsed[] = [];
    const whole = await sink(
      tenant,
      group.map((p) => p.signal),
    );
    if (whole.status === 'ok') {
      report.landed += group.length;
    } else if (whole.status === 'unavailable') {
      keep.push(...group);
    } else {
      // The batch is all-or-nothing: find the signals the register refuses and land the others.
      for (const p of group) {
        const one = group.length === 1 ? whole : await sink(tenant, [p.signal]);
        if (one.status === 'ok') report.landed += 1;
        else if (one.status === 'unavailable') keep.push(p);
        else report.rejected.push({ file: label, line: p.line, reason: one.message });
      }
    }
    if (keep.length > 0) {
      // Back into the spool as a new file, before the claimed one is removed: nothing is lost.
      spoolSignals(
        dataDir,
        tenant,
        keep.map((p) => p.signal),
      );
      report.deferred += keep.length;
    }
  }
  await unlink(claimed);
}

/**
 * Drains the status line's spool into the register. Each spool file is claimed by renaming it, which
 * only one drainer can do, so a signal lands once even when drains race (two processes, or a timer
 * and a command). A file claimed by a drainer that has died is claimed again. Corrupt lines are
 * reported and skipped; signals the register refuses are reported and dropped; signals it cannot take
 * now go back to the spool. Only a crash between writing a batch and removing its file can send that
 * batch twice, and a repeated reading does not change the window's state (docs/decisions.md).
 */
export async function drainSpool(dataDir: string, sink: SpoolSink): Promise<DrainReport> {
  const report: DrainReport = { files: 0, landed: 0, corrupt: [], rejected: [], deferred: 0 };
  const dir = spoolDir(dataDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (code(error) === 'ENOENT') return report;
    throw error;
  }
  const me = `${process.pid}-${randomBytes(4).toString('hex')}`;
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (name.startsWith('.')) {
      const st = await stat(path).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > ABANDONED_TMP_MS) await unlink(path).catch(() => undefined);
      continue;
    }
    let original: string;
    if (name.endsWith(SPOOL_SUFFIX)) {
      original = name;
    } else {
      const m = CLAIMED.exec(name);
      if (!m?.[1] || isAlive(Number(m[2]))) continue;
      original = m[1];
    }
    const claimed = join(dir, `${original}.claimed-${me}`);
    try {
      await rename(path, claimed);
    } catch (error) {
      // Another drainer claimed it first: it is theirs to write.
      if (code(error) === 'ENOENT') continue;
      throw error;
    }
    report.files += 1;
    await drainFile(dataDir, claimed, join(dir, original), sink, report);
  }
  return report;
}

/** The drain's problems in words, one line each (empty when there were none). */
export function describeDrain(report: DrainReport): string[] {
  const lines: string[] = [];
  for (const c of report.corrupt) {
    lines.push(`statusline spool: skipped corrupt line ${c.line} of ${c.file}: ${c.reason}`);
  }
  for (const r of report.rejected) {
    lines.push(`statusline spool: dropped the signal on line ${r.line} of ${r.file}: ${r.reason}`);
  }
  if (report.deferred > 0) {
    lines.push(`statusline spool: ${report.deferred} signal(s) kept for later: the register is unavailable`);
  }
  return lines;
}
