/**
 * A five-cell bar for how far ahead (+) or behind (−) of the pace line a window is, in percentage
 * points: the middle is on pace, each cell is 2 points, full at 5 or more.
 */
export function paceBar(aheadPoints: number): string {
  const cells = Math.max(-2, Math.min(2, Math.round(aheadPoints / 2)));
  const bar = ['·', '·', '|', '·', '·'];
  if (cells > 0) for (let i = 3; i < 3 + cells; i += 1) bar[i] = '▮';
  if (cells < 0) for (let i = 1; i > 1 + cells; i -= 1) bar[i] = '▯';
  return `[${bar.join('')}]`;
}
