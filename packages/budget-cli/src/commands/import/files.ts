import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Every `*.jsonl` under `dir`, recursively, sorted by path. */
export function findJsonl(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.jsonl')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Claude Code's transcript roots, as ccusage finds them: the given paths, else every root in
 * CLAUDE_CONFIG_DIR (comma-separated), else ~/.config/claude and ~/.claude. A root's `projects/`
 * folder is scanned when it has one, the root itself otherwise.
 */
export function claudeCodeDirs(paths: string[], env: NodeJS.ProcessEnv): string[] {
  const roots = paths.length
    ? paths
    : env.CLAUDE_CONFIG_DIR
      ? env.CLAUDE_CONFIG_DIR.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'claude'), join(homedir(), '.claude')];
  return roots.map((r) => (isDir(join(r, 'projects')) ? join(r, 'projects') : r)).filter(isDir);
}

/** Codex's session-log folders: `sessions/` and `archived_sessions/` under --path or CODEX_HOME (~/.codex). */
export function codexDirs(paths: string[], env: NodeJS.ProcessEnv): string[] {
  const roots = paths.length ? paths : [env.CODEX_HOME ?? join(homedir(), '.codex')];
  const out: string[] = [];
  for (const r of roots) {
    const subs = ['sessions', 'archived_sessions'].map((s) => join(r, s)).filter(isDir);
    out.push(...(subs.length ? subs : isDir(r) ? [r] : []));
  }
  return out.filter((d) => existsSync(d));
}
