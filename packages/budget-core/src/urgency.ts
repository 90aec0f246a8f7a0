import { z } from 'zod';

/** How urgent a task is; raises queue priority, and bypasses pacing only under an authorization. */
export const URGENCIES = ['low', 'normal', 'high', 'critical'] as const;
/** See {@link URGENCIES}. */
export const urgencySchema = z.enum(URGENCIES);
/** See {@link urgencySchema}. */
export type Urgency = z.infer<typeof urgencySchema>;
