// The simulator's public surface, re-exported by the package's index.
export {
  scenarioSchema,
  scenarioAccountSchema,
  scenarioWindowSchema,
  signalSettingsSchema,
  demandItemSchema,
  generatorSchema,
  MAX_SCENARIO_DAYS,
  MAX_RATE_PER_HOUR,
} from './scenario.js';
export type {
  Scenario,
  ScenarioInput,
  ScenarioAccount,
  ScenarioWindow,
  SignalSettings,
  DemandItem,
  Generator,
} from './scenario.js';
export { simulate, scenarioPolicy } from './engine.js';
export type {
  SimulationResult,
  SimulationReport,
  RunReport,
  WindowReport,
  TaskCounts,
  LearningReport,
  SeriesPanel,
  SimulateOptions,
} from './engine.js';
export type { OverrunAccount } from './provider.js';
export { STRATEGIES } from './strategies.js';
export type { Strategy } from './strategies.js';
export { SimulationError } from './world.js';
export { formatReport, summarizeWindows } from './report.js';
export type { WindowSummary } from './report.js';
export { renderPaceSvg } from './pace-svg.js';
export type { PaceSvgOptions } from './pace-svg.js';
export { mulberry32 } from './prng.js';
export type { Prng } from './prng.js';
