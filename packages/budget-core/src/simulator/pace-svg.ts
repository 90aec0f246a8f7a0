import type { SimulationResult } from './engine.js';
import type { Strategy } from './strategies.js';

/** Options of {@link renderPaceSvg}. */
export interface PaceSvgOptions {
  /** Width of the chart in pixels. */
  width?: number;
  /** Height of one panel in pixels. */
  panelHeight?: number;
  /** Strategies to draw (default: all in the result). */
  strategies?: readonly Strategy[];
  /** Include rolling windows (many short periods; default false). */
  rolling?: boolean;
}

const COLOURS: Record<Strategy, string> = {
  paced: '#1f77b4',
  greedy: '#d62728',
  'static-daily-cap': '#2ca02c',
};

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();

/**
 * A self-contained SVG of a simulation: one panel per account window, each with the ideal line of
 * every period (0 % at its start to 100 % at its reset, grey), each strategy's true cumulative usage
 * (coloured), the 100 % limit and every reset (dashed verticals). Pure: returns the SVG text.
 *
 * @example
 * const svg = renderPaceSvg(simulate(scenario)); // write it to pace.svg
 */
export function renderPaceSvg(result: SimulationResult, options: PaceSvgOptions = {}): string {
  const width = options.width ?? 960;
  const panelH = options.panelHeight ?? 220;
  const margin = { left: 56, right: 16, top: 28, bottom: 28 };
  const wanted = options.strategies ?? result.series.map((s) => s.strategy);
  const series = result.series.filter((s) => wanted.includes(s.strategy));
  const first = series[0];
  const startMs = Date.parse(result.report.scenario.start);
  const endMs = Date.parse(result.report.scenario.end);
  const panels = (first?.panels ?? []).filter((p) => options.rolling === true || !p.rolling);
  const legendH = 24;
  const height = legendH + panels.length * panelH;
  const plotW = width - margin.left - margin.right;
  const plotH = panelH - margin.top - margin.bottom;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  );
  series.forEach((s, i) => {
    const x = margin.left + i * 150;
    out.push(
      `<line x1="${x}" y1="12" x2="${x + 20}" y2="12" stroke="${COLOURS[s.strategy]}" stroke-width="2"/>`,
      `<text x="${x + 26}" y="16">${esc(s.strategy)}</text>`,
    );
  });
  out.push(
    `<line x1="${margin.left + series.length * 150}" y1="12" x2="${margin.left + series.length * 150 + 20}" y2="12" stroke="#999" stroke-width="1"/>`,
    `<text x="${margin.left + series.length * 150 + 26}" y="16">ideal line</text>`,
  );
  panels.forEach((panel, pi) => {
    const top = legendH + pi * panelH + margin.top;
    const x = (ms: number) => margin.left + ((ms - startMs) / (endMs - startMs)) * plotW;
    // Usage can exceed 100 % (greedy overruns); the axis goes to 120 % so overruns stay visible.
    const y = (p: number) => top + plotH - (Math.min(p, 120) / 120) * plotH;
    out.push(
      `<text x="${margin.left}" y="${top - 8}" font-weight="bold">${esc(`${panel.account} / ${panel.window}`)}</text>`,
      `<rect x="${margin.left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#ccc"/>`,
      `<line x1="${margin.left}" y1="${f1(y(100))}" x2="${margin.left + plotW}" y2="${f1(y(100))}" stroke="#000" stroke-dasharray="2,2"/>`,
      `<text x="${margin.left - 6}" y="${f1(y(100) + 4)}" text-anchor="end">100%</text>`,
      `<text x="${margin.left - 6}" y="${f1(y(0) + 4)}" text-anchor="end">0%</text>`,
    );
    for (const p of panel.periods) {
      const s = Math.max(p.startMs, startMs);
      const e = Math.min(p.resetMs, endMs);
      const idealAt = (ms: number) => ((ms - p.startMs) / (p.resetMs - p.startMs)) * 100;
      out.push(
        `<line x1="${f1(x(s))}" y1="${f1(y(idealAt(s)))}" x2="${f1(x(e))}" y2="${f1(y(idealAt(e)))}" stroke="#999"/>`,
      );
      if (p.resetMs <= endMs) {
        out.push(
          `<line x1="${f1(x(p.resetMs))}" y1="${top}" x2="${f1(x(p.resetMs))}" y2="${top + plotH}" stroke="#666" stroke-dasharray="4,3"/>`,
        );
      }
    }
    for (const s of series) {
      const mine = s.panels.find((q) => q.account === panel.account && q.window === panel.window);
      if (!mine || mine.points.length === 0) continue;
      const d = mine.points
        .map((pt, i) => `${i === 0 ? 'M' : 'L'}${f1(x(pt.ms))},${f1(y(pt.percent))}`)
        .join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${COLOURS[s.strategy]}" stroke-width="1.5"/>`);
    }
  });
  out.push('</svg>');
  return out.join('\n');
}
