import { z } from 'zod';
import { idSchema, labelSchema, modelSchema } from './ids.js';
import { instantSchema } from './time.js';
import { urgencySchema } from './urgency.js';
import { estimateSchema } from './policy.js';

/** What an orchestrator asks before it starts a task (the body of `POST /v1/gate`). */
export const dispatchRequestSchema = z.object({
  taskId: labelSchema,
  taskClass: idSchema,
  model: modelSchema,
  account: idSchema.optional(),
  estimate: estimateSchema.optional(),
  urgency: urgencySchema.default('normal'),
  deadline: instantSchema.optional(),
  agent: labelSchema,
  host: labelSchema,
  mission: labelSchema.optional(),
});
/** See {@link dispatchRequestSchema}. */
export type DispatchRequest = z.output<typeof dispatchRequestSchema>;
/** The wire (input) form of {@link DispatchRequest}. */
export type DispatchRequestInput = z.input<typeof dispatchRequestSchema>;

/** The five outcomes of the gate, in the order they are tried. */
export const DECISIONS = ['allow', 'downgrade', 'reroute', 'queue', 'refuse'] as const;
/** See {@link DECISIONS}. */
export type DecisionKind = (typeof DECISIONS)[number];
