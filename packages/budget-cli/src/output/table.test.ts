import { describe, expect, it } from 'vitest';
import { table } from './table.js';
import { paletteFor } from './color.js';

describe('output', () => {
  it('aligns columns, numbers to the right, ignoring colour escapes', () => {
    const red = paletteFor({ isTTY: true }, { FORCE_COLOR: '1' }).red;
    expect(
      table(
        ['NAME', 'USED'],
        [
          ['max-a', red('42%')],
          ['b', '7%'],
        ],
        ['USED'],
      ),
    ).toBe(`NAME   USED\nmax-a   ${red('42%')}\nb        7%`);
  });

  it('colour is off for NO_COLOR and for a non-TTY stream', () => {
    expect(paletteFor({ isTTY: true }, { NO_COLOR: '' }).red('x')).toBe('x');
    expect(paletteFor({ isTTY: false }, {}).red('x')).toBe('x');
    expect(paletteFor({ isTTY: true }, {}).enabled).toBe(true);
  });
});
