import { ApiError } from '../errors.js';
import type { Transport } from './transport.js';

interface ProblemDoc {
  code?: string;
  detail?: string;
  title?: string;
  issues?: { path?: unknown[]; message?: string }[];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Sends a request and returns the parsed JSON body, or throws an {@link ApiError} built from the
 * service's problem document (its code, detail and the issues it lists).
 */
export async function call<T = unknown>(
  t: Transport,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await t.request(method, path, body);
  if (res.status >= 400) {
    const doc = (parseJson(res.text) ?? {}) as ProblemDoc;
    const issues = (doc.issues ?? []).map((i) => `${(i.path ?? []).join('.')}: ${i.message ?? ''}`);
    const detail = [doc.detail ?? doc.title ?? `HTTP ${res.status}`, ...issues].join('; ');
    throw new ApiError(res.status, doc.code ?? `BUDGET_ERR_HTTP_${res.status}`, detail, doc);
  }
  if (res.text === '') return undefined as T;
  const json = parseJson(res.text);
  return (json === undefined ? res.text : json) as T;
}

/** Like {@link call} but returns the body text as is (Markdown reports). */
export async function callText(t: Transport, method: string, path: string): Promise<string> {
  const res = await t.request(method, path);
  if (res.status >= 400) {
    const doc = (parseJson(res.text) ?? {}) as ProblemDoc;
    throw new ApiError(res.status, doc.code ?? `BUDGET_ERR_HTTP_${res.status}`, doc.detail ?? res.text, doc);
  }
  return res.text;
}

/** A query string from the defined values of `q`, with a leading `?` when not empty. */
export function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
