import { z } from 'zod';

/** How much a reset instant can be trusted, from most to least. */
export const CONFIDENCES = ['user', 'provider', 'estimated', 'unknown'] as const;

/** The confidence tag every reset carries. */
export const confidenceSchema = z.enum(CONFIDENCES);

/** See {@link confidenceSchema}. */
export type Confidence = z.infer<typeof confidenceSchema>;

/** Higher is more trusted: user 3, provider 2, estimated 1, unknown 0. */
export function confidenceRank(c: Confidence): number {
  return CONFIDENCES.length - 1 - CONFIDENCES.indexOf(c);
}
