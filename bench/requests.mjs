// The gate request every bench sends, in one place: the load generator's requests and the request
// whose round trips bench/roundtrips.mjs counts must be the same request.

/** The body of `POST /v1/gate` for a new task on `account` (a $0.01 sonnet task). */
export function gateRequest(taskId, account) {
  return {
    taskId,
    taskClass: 'feature',
    model: 'claude-sonnet-4',
    account,
    estimate: { usd: '0.01' },
    agent: 'bench',
    host: 'bench-host',
  };
}
