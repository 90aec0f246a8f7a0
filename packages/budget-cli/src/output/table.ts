// eslint-disable-next-line no-control-regex -- ANSI escapes are what we strip to measure width.
const ANSI = /\u001b\[[0-9;]*m/g;

function width(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

/** Whether a column's cells align left (text) or right (numbers). */
export type Align = 'left' | 'right';

/**
 * Renders rows as an aligned plain-text table with a header line; columns whose header is given in
 * `right` align right. Colour escapes in cells do not count towards width.
 */
export function table(headers: string[], rows: string[][], right: string[] = []): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(c)));
        return right.includes(headers[i] ?? '') ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
