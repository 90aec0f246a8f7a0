import type { Decimal } from 'decimal.js';
import { dec } from './money.js';

/**
 * How a provider turns true usage into the percentage it reports: `nearest` rounds half up to a
 * multiple of the quantum (what the simulator's provider does), `floor` truncates to one.
 */
export type SignalRounding = 'nearest' | 'floor';

/**
 * The quantum a reported percentage was rounded to, read from how it is written: `42` → 1,
 * `42.5` → 0.1, `42.25` → 0.01. A reading written with fewer places than its source keeps (a
 * 0.1 % source that happened to report `42`) is taken as coarser, which errs toward reading more
 * usage, never less.
 *
 * @example
 * impliedQuantumPercent(dec('97')).toString(); // '1'
 */
export function impliedQuantumPercent(usedPercent: Decimal): Decimal {
  return dec(10).pow(-usedPercent.decimalPlaces());
}

/**
 * The most a rounded reading can mean: `p + q/2` for a reading rounded to the nearest multiple of
 * `q`, `p + q` for a truncated one. Pacing must read a signal at this bound: filling a window to
 * 100 % of the bare reading overruns it by up to the rounding (measured in the simulator: a weekly
 * window exhausted 70 minutes early at 100.02 %, see docs/simulation.md).
 *
 * @example
 * signalUpperBoundPercent(dec(97), dec(1)).toString(); // '97.5'
 * signalUpperBoundPercent(dec('42.5'), impliedQuantumPercent(dec('42.5'))).toString(); // '42.55'
 */
export function signalUpperBoundPercent(
  usedPercent: Decimal,
  quantumPercent: Decimal,
  rounding: SignalRounding = 'nearest',
): Decimal {
  return usedPercent.plus(rounding === 'floor' ? quantumPercent : quantumPercent.div(2));
}
