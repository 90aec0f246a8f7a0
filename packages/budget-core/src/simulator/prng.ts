/**
 * A seeded pseudo-random source: mulberry32, a 32-bit generator that passes gjrand's and
 * PractRand's basic batteries, is four lines long and needs no dependency. Simulations need
 * reproducibility, not cryptographic quality; the seed is always an argument.
 */
export interface Prng {
  /** A uniform number in [0, 1). */
  next(): number;
}

/** A mulberry32 generator started from `seed` (any 32-bit integer). */
export function mulberry32(seed: number): Prng {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** An independent stream for sub-purpose `n` of a seed (so adding a generator does not shift the others). */
export function substream(seed: number, n: number): Prng {
  // Mixing with a large odd constant spreads neighbouring (seed, n) pairs across the state space.
  return mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(n + 1, 0x85ebca6b)) >>> 0);
}

/** An exponential variate with the given rate (mean 1/rate). */
export function exponential(rng: Prng, rate: number): number {
  return -Math.log(1 - rng.next()) / rate;
}

/** A standard normal variate (Box–Muller; one of the pair is discarded for simplicity). */
export function normal(rng: Prng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** z of the 90th percentile of the standard normal. */
const Z90 = 1.2815515655446004;

function sigmaOf(median: number, p90: number): number {
  return p90 > median ? Math.log(p90 / median) / Z90 : 0;
}

/** A log-normal variate with the given median and 90th percentile. */
export function logNormal(rng: Prng, median: number, p90: number): number {
  return median * Math.exp(sigmaOf(median, p90) * normal(rng));
}

/** The mean of the log-normal with the given median and 90th percentile. */
export function logNormalMean(median: number, p90: number): number {
  const s = sigmaOf(median, p90);
  return median * Math.exp((s * s) / 2);
}
