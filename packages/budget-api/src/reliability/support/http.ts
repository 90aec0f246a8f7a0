/** What one HTTP call returned (status -1 when it failed before an answer: timeout or connection). */
export interface Answer {
  status: number;
  json: Record<string, unknown>;
  headers: Headers | undefined;
  error?: string;
}

/** A real HTTP client of a service process (loopback), with a bearer token and an optional timeout. */
export async function call(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 60_000,
): Promise<Answer> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { text };
    }
    return { status: res.status, json, headers: res.headers };
  } catch (error) {
    return {
      status: -1,
      json: {},
      headers: undefined,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** A gate request body for a task on the test account. */
export function gateBody(
  taskId: string,
  usd: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    taskId,
    taskClass: 'feature',
    model: 'claude-sonnet-4',
    estimate: { usd },
    agent: 'rel-agent',
    host: 'rel-host',
    mission: 'reliability',
    ...extra,
  };
}
