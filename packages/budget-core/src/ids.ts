import { z } from 'zod';

/**
 * An identifier that operators type and that appears in metrics labels and URLs: letters, digits,
 * dot, dash, underscore and colon, at most 128 characters.
 */
export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
    'must start with a letter or digit and use only A-Z a-z 0-9 . _ : -',
  );

/** A free-form label (host, agent, mission, task): printable, at most 256 characters. */
export const labelSchema = z
  .string()
  .min(1)
  .max(256)
  // Control characters in a label end up in logs and terminals; refuse them at the boundary.
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

/** A model name as the provider spells it, e.g. `claude-sonnet-4`. */
export const modelSchema = idSchema;
