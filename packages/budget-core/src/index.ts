// The public door of @mosaic/budget-core: pure schemas and decisions, no I/O, no clock.
export {
  Money,
  ZERO,
  dec,
  minDec,
  maxDec,
  decimalSchema,
  nonNegativeDecimalSchema,
  positiveDecimalSchema,
  usdSchema,
} from './money.js';
export type { Dec } from './money.js';
export { timezoneSchema, instantSchema, durationSchema, EARLIEST, LATEST, HOUR_MS, DAY_MS } from './time.js';
export { CONFIDENCES, confidenceSchema, confidenceRank } from './confidence.js';
export type { Confidence } from './confidence.js';
export { idSchema, labelSchema, modelSchema } from './ids.js';
export { windowSpecSchema } from './window.js';
export type { WindowSpec, WindowSpecInput } from './window.js';
export {
  accountKindSchema,
  ceilingPeriodSchema,
  ceilingSchema,
  providerSchema,
  accountSchema,
} from './account.js';
export type { AccountKind, CeilingPeriod, Ceiling, Account, AccountInput } from './account.js';
export { usageSignalSchema } from './signal.js';
export type { UsageSignal, UsageSignalInput } from './signal.js';
export { impliedQuantumPercent, signalUpperBoundPercent } from './signal-bound.js';
export type { SignalRounding } from './signal-bound.js';
export { spendKindSchema, tokenCountSchema, tokenUsageSchema, spendRecordSchema } from './spend.js';
export type { SpendKind, TokenUsage, SpendRecord, SpendRecordInput } from './spend.js';
export { URGENCIES, urgencySchema } from './urgency.js';
export type { Urgency } from './urgency.js';
export { authorizationKindSchema, authorizationScopeSchema, authorizationSchema } from './authorization.js';
export type { AuthorizationKind, Authorization, AuthorizationInput } from './authorization.js';
export {
  modelPriceSchema,
  estimateSchema,
  taskClassPolicySchema,
  burstSchema,
  failModeSchema,
  failureRuleSchema,
  policySchema,
  defaultPolicy,
} from './policy.js';
export type {
  ModelPrice,
  Estimate,
  TaskClassPolicy,
  Burst,
  FailMode,
  FailureRule,
  Policy,
  PolicyInput,
} from './policy.js';
export { failOpenDecision, failureRuleFor } from './fail-open.js';
export type { FailOpen, FailOpenInput } from './fail-open.js';
export { dispatchRequestSchema, DECISIONS } from './dispatch.js';
export type { DispatchRequest, DispatchRequestInput, DecisionKind } from './dispatch.js';
export type { TraceStep, Trace } from './trace.js';
export type {
  ReservationAmount,
  AdmitDecision,
  QueueDecision,
  RefuseDecision,
  Decision,
} from './decision.js';
export type { WindowState, PeriodTotals, AccountSnapshot, Snapshot } from './snapshot.js';
export { PRICES_DATA } from './prices-data.js';
export {
  DEFAULT_PRICES,
  DEFAULT_TOKEN_MIX,
  priceTable,
  priceUsage,
  priceOf,
  modelPricer,
  estimateUsd,
} from './prices.js';
export type { PriceTable } from './prices.js';
export { currentWindow, addPeriods } from './window-schedule.js';
export type { HeldWindow, EffectiveWindow } from './window-schedule.js';
export { applyResetPrecedence } from './reset-precedence.js';
export type { HeldReset, ResetPrecedenceResult } from './reset-precedence.js';
export { foldSignal, observedAfter } from './signal-fold.js';
export type { FoldedSignal, HeldReading } from './signal-fold.js';
export { ceilingPeriodBounds } from './ceiling-period.js';
// Pure input parsers (WHEN texts, agent logs, status line, provider headers): see parsers/index.ts.
export * from './parsers/index.js';
export { currentWindowMs, shiftMs } from './window-schedule.js';
export type { EffectiveWindowMs, WindowBasis } from './window-schedule.js';
export { burstPercent } from './burst.js';
export {
  NO_AUTHORIZATIONS,
  activeAuthorizations,
  authorizationInForce,
  authorizationCovers,
} from './authorizations-active.js';
export type { ActiveAuthorizations, AuthorizationTarget } from './authorizations-active.js';
export {
  LIMIT_PERCENT,
  windowPercentPerUsd,
  idealPercentAt,
  windowHeadroom,
  fitsWindow,
  earliestFitMs,
} from './headroom.js';
export type { WindowHeadroomInput, WindowHeadroom } from './headroom.js';
export { ON_PACE_TOLERANCE_PERCENT, targetRate, paceWindow, earliestFit } from './pacing.js';
export type { PaceStatus, WindowPace, PaceWindowArgs } from './pacing.js';
export { mappedAccounts, compareRouting, resolveLadder, candidateModels } from './ladder.js';
export { CONCURRENCY_RETRY_MS, decide } from './gate.js';
export {
  ESTIMATOR_RING_SIZE,
  ESTIMATOR_PRIOR_WEIGHT,
  ESTIMATOR_COLD_P90_RATIO,
  ESTIMATOR_MIN_SAMPLES_FOR_P90,
  emptyEstimatorState,
  estimateTask,
  recordActual,
  estimateError,
  estimatorCells,
  quantile,
} from './estimator.js';
export type {
  EstimatorCell,
  EstimatorState,
  EstimateSource,
  TaskEstimate,
  EstimateError,
  ActualObservation,
} from './estimator.js';
export { dispatchEstimate } from './dispatch-estimate.js';
export type { DispatchEstimate } from './dispatch-estimate.js';
export {
  CALIBRATION_MIN_SPAN_PERCENT,
  CALIBRATION_FORGETTING,
  CALIBRATION_PRIOR_SPAN_PERCENT,
  CALIBRATION_PRIOR_DECAY,
  CALIBRATION_RESET_DROP_PERCENT,
  emptyCalibrationState,
  observeSignal,
  calibrationOf,
} from './calibration.js';
export type {
  WindowCalibration,
  CalibrationState,
  CalibrationObservation,
  Calibration,
} from './calibration.js';
// The pacing simulator: scenarios, strategies, reports and the pace chart (see simulator/index.ts).
export * from './simulator/index.js';
export { projectedExhaustionMs } from './exhaustion.js';
export { toGenAiAttributes, fromGenAiAttributes } from './otel.js';
export type { GenAiUsageAttributes, GenAiUsageSource } from './otel.js';
export {
  TYPICAL_DAYS,
  typicalDailySpend,
  burnRateUsdPerHour,
  projectWindow,
  projectedVsActualByMission,
  projectedVsActualByTask,
} from './projections.js';
export type { LedgerRow, TypicalDailySpend, WindowProjection, ProjectedVsActual } from './projections.js';
