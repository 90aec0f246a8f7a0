import { z } from 'zod';
import { spendRecordSchema } from '@mosaic/budget-core';
import { MAX_SPEND_BATCH } from '../register/spend.js';
import { fastInstantSchema } from './fast-instant.js';

/** The body of `POST /v1/spend` as the schema states it: one to MAX_SPEND_BATCH spend records. */
export const spendBatchSchema = z.object({
  records: z.array(spendRecordSchema).min(1).max(MAX_SPEND_BATCH),
});

/**
 * {@link spendBatchSchema} with the instant read by {@link fastInstantSchema} (luxon's general ISO
 * parse was the largest cost left once the record walk was compiled); uncompiled.
 */
export const spendBatchFastSchema = z.object({
  records: z
    .array(spendRecordSchema.extend({ occurredAt: fastInstantSchema }))
    .min(1)
    .max(MAX_SPEND_BATCH),
});

/**
 * {@link spendBatchFastSchema} compiled by zod itself (`z.compile`): what the route validates with.
 * Walking a thousand records through zod's generic runtime cost twice what the generated code does,
 * and validation was the largest share of an ingest batch's CPU. The generated code only ever accepts:
 * on anything it would refuse it hands the input to the runtime parser, so a refused batch gets
 * exactly the runtime's issues. The transforms (decimals, instants) are called as they are. A schema
 * zod cannot compile comes back unchanged and keeps working on the runtime; spend-body.test.ts checks
 * that this one compiles, and that it accepts, refuses and outputs exactly as {@link spendBatchSchema}
 * does on generated records, hostile ones included.
 */
export const spendBatchBody = z.compile(spendBatchFastSchema);
