/** One column of a batch: texts, numbers and nulls, as an `unnest` parameter takes them. */
export type ColumnValues = readonly (string | number | null)[];

/**
 * A column as a PostgreSQL array literal, written by JSON.stringify when that is the same text:
 * node-postgres escapes every element of an array parameter in JavaScript, which cost a 1,000-record
 * spend batch more than the rest of its statement's preparation. Inside double quotes PostgreSQL's
 * array syntax takes every character literally but `"` and `\`, JSON writes numbers and `null` as the
 * array syntax does, and JSON writes a backslash only to escape something (a quote, a backslash, a
 * control character, a lone surrogate) that PostgreSQL would read differently; so a column whose JSON
 * holds no backslash is passed as that text, and any other keeps node-postgres's own escaping. Numbers
 * must be finite (JSON writes others as null); the callers' values are validated counts.
 */
export function pgArray(values: ColumnValues): string | ColumnValues {
  const json = JSON.stringify(values);
  if (json.includes('\\')) return values;
  return `{${json.slice(1, -1)}}`;
}
