/**
 * The shipped table of model prices, in USD per million tokens. Operators override any entry with
 * `policy.prices`; this table is only what a fresh install believes.
 */
export const PRICES_DATA = {
  asOf: '2026-11-24',
  source:
    "The providers' public price pages (Anthropic's models and pricing page, OpenAI's API pricing page) " +
    'as of the date above. OpenAI bills no separate cache write, so its cacheWrite is 0.',
  /** input / output / cache read / cache write, USD per million tokens, as decimal strings. */
  models: {
    'claude-opus-4': { input: '15', output: '75', cacheRead: '1.5', cacheWrite: '18.75' },
    'claude-opus-4-1': { input: '15', output: '75', cacheRead: '1.5', cacheWrite: '18.75' },
    'claude-opus-4-5': { input: '5', output: '25', cacheRead: '0.5', cacheWrite: '6.25' },
    'claude-sonnet-4': { input: '3', output: '15', cacheRead: '0.3', cacheWrite: '3.75' },
    'claude-sonnet-4-5': { input: '3', output: '15', cacheRead: '0.3', cacheWrite: '3.75' },
    'claude-haiku-4': { input: '1', output: '5', cacheRead: '0.1', cacheWrite: '1.25' },
    'claude-haiku-4-5': { input: '1', output: '5', cacheRead: '0.1', cacheWrite: '1.25' },
    'claude-3-5-haiku': { input: '0.8', output: '4', cacheRead: '0.08', cacheWrite: '1' },
    'gpt-5': { input: '1.25', output: '10', cacheRead: '0.125', cacheWrite: '0' },
    'gpt-5-codex': { input: '1.25', output: '10', cacheRead: '0.125', cacheWrite: '0' },
    'gpt-5-mini': { input: '0.25', output: '2', cacheRead: '0.025', cacheWrite: '0' },
    'gpt-5-nano': { input: '0.05', output: '0.4', cacheRead: '0.005', cacheWrite: '0' },
    // The GPT-5.1 family (Codex CLI's default models since November 2025) is priced like GPT-5.
    'gpt-5.1': { input: '1.25', output: '10', cacheRead: '0.125', cacheWrite: '0' },
    'gpt-5.1-codex': { input: '1.25', output: '10', cacheRead: '0.125', cacheWrite: '0' },
    'gpt-5.1-codex-max': { input: '1.25', output: '10', cacheRead: '0.125', cacheWrite: '0' },
    'gpt-5.1-codex-mini': { input: '0.25', output: '2', cacheRead: '0.025', cacheWrite: '0' },
    'o4-mini': { input: '1.1', output: '4.4', cacheRead: '0.275', cacheWrite: '0' },
  },
} as const satisfies {
  asOf: string;
  source: string;
  models: Record<string, { input: string; output: string; cacheRead: string; cacheWrite: string }>;
};
