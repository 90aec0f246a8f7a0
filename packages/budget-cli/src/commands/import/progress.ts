/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
export interface Progress {
  add(bytes: number): void;
  done(): void;
}

/** A bar over `total` bytes; a no-op unless `enabled` (a TTY and not --json). */
export function progressBar(total: number, enabled: boolean, label: string): Progress {
  if (!enabled || total <= 0) return { add: () => undefined, done: () => undefined };
  let seen = 0;
  let lastDrawn = -1;
  const draw = (): void => {
    const pct = Math.min(100, Math.floor((seen / total) * 100));
    if (pct === lastDrawn) return;
    lastDrawn = pct;
    const cells = Math.floor(pct / 4);
    process.stderr.write(`\r${label} [${'#'.repeat(cells)}${'-'.repeat(25 - cells)}] ${pct}%`);
  };
  return {
    add: (bytes) => {
      seen += bytes;
      draw();
    },
    done: () => {
      process.stderr.write('\r\u001b[2K');
    },
  };
}
