import { z } from 'zod';
import { accountKindSchema, ceilingPeriodSchema, providerSchema } from '../account.js';
import { confidenceSchema } from '../confidence.js';
import { idSchema, modelSchema } from '../ids.js';
import { decimalSchema, positiveDecimalSchema, usdSchema } from '../money.js';
import { policySchema } from '../policy.js';
import { tokenCountSchema } from '../spend.js';
import { durationSchema, instantSchema, timezoneSchema } from '../time.js';
import { urgencySchema } from '../urgency.js';

// Bounds that keep one simulation to seconds: longer horizons or denser demand are typos, not plans.
/** Longest simulated horizon, in days. */
export const MAX_SCENARIO_DAYS = 92;
/** Most tasks a generator may create per hour. */
export const MAX_RATE_PER_HOUR = 600;

/** A limit window of a simulated subscription: the spec the engine sees plus the hidden truth. */
export const scenarioWindowSchema = z.object({
  name: idSchema,
  length: durationSchema,
  rolling: z.boolean().default(false),
  /** Fixed windows: the first reset. Absent on a fixed window: the scenario's start + length. */
  resetAt: instantSchema.optional(),
  confidence: confidenceSchema.default('provider'),
  /** Hidden capacity in API-equivalent USD: only the simulated provider reads it. */
  truthUsd: positiveDecimalSchema,
  /** The engine's prior for the capacity (becomes the account window's `capacityUsd`). */
  capacityUsd: positiveDecimalSchema.optional(),
  models: z.array(modelSchema).min(1).optional(),
});
/** See {@link scenarioWindowSchema}. */
export type ScenarioWindow = z.output<typeof scenarioWindowSchema>;

/** How the simulated provider reports usage of a subscription account. */
export const signalSettingsSchema = z.object({
  everyMinutes: z.number().int().positive().max(1440).default(30),
  quantumPercent: decimalSchema.refine((d) => d.gt(0) && d.lte(50), 'must be > 0 and ≤ 50').prefault(1),
  /** Extension: uniform noise of ± this many percentage points added before quantising. */
  noisePercent: z.number().min(0).max(10).default(0),
});
/** See {@link signalSettingsSchema}. */
export type SignalSettings = z.output<typeof signalSettingsSchema>;

/** A simulated account. */
export const scenarioAccountSchema = z
  .object({
    id: idSchema,
    provider: providerSchema,
    kind: accountKindSchema,
    models: z.array(modelSchema).min(1),
    windows: z.array(scenarioWindowSchema).default([]),
    signals: signalSettingsSchema.prefault({}),
    /** api accounts: the hard ceiling and its calendar period. */
    ceilingUsd: usdSchema.optional(),
    period: ceilingPeriodSchema.default('P1D'),
    concurrency: z.number().int().positive().optional(),
  })
  .superRefine((a, ctx) => {
    if (a.kind === 'api' && !a.ceilingUsd) {
      ctx.addIssue({ code: 'custom', path: ['ceilingUsd'], message: 'an api account needs ceilingUsd' });
    }
  });
/** See {@link scenarioAccountSchema}. */
export type ScenarioAccount = z.output<typeof scenarioAccountSchema>;

/** One task that arrives at a fixed instant. */
export const demandItemSchema = z.object({
  at: instantSchema,
  taskClass: idSchema,
  model: modelSchema,
  estimateTokens: tokenCountSchema,
  actualTokens: tokenCountSchema,
  urgency: urgencySchema.default('normal'),
  deadline: instantSchema.optional(),
  /** Extension: how long the task runs (default: the scenario's `taskMinutes`). */
  minutes: z.number().positive().max(1440).optional(),
});
/** See {@link demandItemSchema}. */
export type DemandItem = z.output<typeof demandItemSchema>;

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;
const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** Parses `Mon-Fri`, `Sat,Sun`, `Mon` or `Mon-Sun` into ISO weekdays (1 = Monday). */
function parseDays(text: string): number[] | undefined {
  const days = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const [a, b] = part.split('-');
    const from = DAY_NAMES.indexOf(a as (typeof DAY_NAMES)[number]);
    const to = b === undefined ? from : DAY_NAMES.indexOf(b as (typeof DAY_NAMES)[number]);
    if (from < 0 || to < 0) return undefined;
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d + 1);
      if (d === to) break;
    }
  }
  return [...days].sort();
}

/** A Poisson stream of tasks during active hours on active days, in the scenario's time zone. */
export const generatorSchema = z.object({
  taskClass: idSchema,
  model: modelSchema,
  ratePerHour: z.number().positive().max(MAX_RATE_PER_HOUR),
  activeHours: z
    .string()
    .regex(HOURS, 'must be "HH:MM-HH:MM", e.g. "08:00-20:00"')
    .default('00:00-24:00')
    .transform((t) => {
      const m = HOURS.exec(t) ?? [];
      return { fromMin: Number(m[1]) * 60 + Number(m[2]), toMin: Number(m[3]) * 60 + Number(m[4]) };
    })
    .refine((h) => h.toMin > h.fromMin, 'the active hours must end after they start'),
  days: z
    .string()
    .default('Mon-Sun')
    .transform((t, ctx) => {
      const d = parseDays(t);
      if (!d) {
        ctx.addIssue({ code: 'custom', message: `"${t}" is not a day list such as "Mon-Fri" or "Sat,Sun"` });
        return z.NEVER;
      }
      return d;
    }),
  /**
   * Actual task sizes: log-normal with this median and P90, cut at `max` (default 4 × P90): an
   * agent's task is bounded by its context window and turn limit, and an unbounded tail would let
   * one 30×-median draw swamp a 5-hour window that no estimate could have foreseen.
   */
  tokens: z
    .object({
      median: z.number().int().positive(),
      p90: z.number().int().positive(),
      max: z.number().int().positive().optional(),
    })
    .refine((t) => t.p90 >= t.median, 'p90 must be at least the median')
    .refine((t) => t.max === undefined || t.max >= t.p90, 'max must be at least the p90'),
  /** The orchestrator's estimate is `estimateBias × median` (0.7 = estimates 30 % low). */
  estimateBias: z.number().positive().max(10).default(1),
  urgency: urgencySchema.default('normal'),
  /** Extension: minutes a task runs (default: the scenario's `taskMinutes`). */
  minutes: z.number().positive().max(1440).optional(),
});
/** See {@link generatorSchema}. */
export type Generator = z.output<typeof generatorSchema>;

/** A simulation scenario: the file format of `mosaic budget simulate` (a contract: extend, never rename). */
export const scenarioSchema = z
  .object({
    version: z.literal(1),
    /** Extension: a title for tables and charts. */
    name: z.string().max(200).optional(),
    seed: z.number().int().min(0).max(0xffffffff),
    start: instantSchema,
    end: instantSchema,
    timezone: timezoneSchema,
    accounts: z.array(scenarioAccountSchema).min(1),
    policy: policySchema.optional(),
    demand: z.array(demandItemSchema).default([]),
    generators: z.array(generatorSchema).default([]),
    /** Extension: how long a task runs when its demand item or generator does not say. */
    taskMinutes: z.number().positive().max(1440).default(20),
  })
  .superRefine((s, ctx) => {
    if (s.end <= s.start) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
    if (s.end.diff(s.start, 'days').days > MAX_SCENARIO_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: `a scenario covers at most ${MAX_SCENARIO_DAYS} days`,
      });
    }
    const ids = new Set<string>();
    for (const [i, a] of s.accounts.entries()) {
      if (ids.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['accounts', i, 'id'], message: `duplicate account "${a.id}"` });
      ids.add(a.id);
    }
    const served = new Set(s.accounts.flatMap((a) => a.models));
    const check = (model: string, path: (string | number)[]) => {
      if (!served.has(model))
        ctx.addIssue({ code: 'custom', path, message: `no account serves model "${model}"` });
    };
    s.demand.forEach((d, i) => check(d.model, ['demand', i, 'model']));
    s.generators.forEach((g, i) => check(g.model, ['generators', i, 'model']));
  });

/** See {@link scenarioSchema}. */
export type Scenario = z.output<typeof scenarioSchema>;
/** The wire (file) form of {@link Scenario}. */
export type ScenarioInput = z.input<typeof scenarioSchema>;
