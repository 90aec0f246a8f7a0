import type { IncomingHttpHeaders } from 'node:http';
import { CliError, EXIT } from '../errors.js';
import { sendHttp, type HttpAnswer } from './http.js';
import type { ApiResponse, Transport } from './transport.js';

/** A response's headers as one string each, as fetch's Headers would give them. */
function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * How long a request may go without a byte from the service before it counts as unreachable: the
 * five minutes fetch (undici) waited for headers and for body data, which this keeps. The service
 * answers every route at once (a queued task is an answer, not a wait), so only a hung service or
 * network meets it.
 */
export const REQUEST_IDLE_TIMEOUT_MS = 300_000;

/**
 * Talks to a running service over HTTP with a bearer token, through {@link sendHttp}: with fetch a
 * remote `gate` (what an orchestrator runs per dispatch) took ~0.45 s against ~0.25 s now
 * (docs/decisions.md). One request per command; a redirect is reported, not followed.
 */
export function remoteTransport(
  baseUrl: string,
  token: string | undefined,
  idleTimeoutMs: number = REQUEST_IDLE_TIMEOUT_MS,
): Transport {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    mode: 'remote',
    target: base,
    async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
      const { request, answer } = sendHttp(new URL(`${base}${path}`), method, {
        token,
        body: body !== undefined ? JSON.stringify(body) : undefined,
        accept: 'application/json, text/markdown',
      });
      // Idle time on the socket, as undici counted it; destroying the request rejects the answer.
      request.setTimeout(idleTimeoutMs, () => {
        request.destroy(
          Object.assign(new Error(`no answer within ${idleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' }),
        );
      });
      let res: HttpAnswer;
      try {
        res = await answer;
      } catch (e) {
        // Refused, reset, cut mid-answer or timed out: the service is as unreachable either way.
        const error = e as NodeJS.ErrnoException;
        const cause = error.code === 'ETIMEDOUT' ? error.message : (error.code ?? error.message);
        throw new CliError('BUDGET_ERR_UNREACHABLE', `cannot reach the service at ${base} (${cause})`, {
          exit: EXIT.unavailable,
          hint: 'start it with `mosaic budget serve`, or check --api / MOSAIC_BUDGET_URL',
        });
      }
      if (res.status >= 300 && res.status < 400) {
        // The service never redirects; something in front of it does (http to https, a moved host).
        // Following it would resend the token and the body wherever it points, so the user is told
        // where it points instead.
        const to = res.headers.location;
        throw new CliError(
          'BUDGET_ERR_REDIRECTED',
          `the service at ${base} answered HTTP ${res.status}${to ? `, redirecting to ${to}` : ''}`,
          {
            exit: EXIT.usage,
            hint: 'point --api (or MOSAIC_BUDGET_URL) at the address the service answers on',
            ...(to ? { details: { location: to } } : {}),
          },
        );
      }
      return { status: res.status, headers: flatHeaders(res.headers), text: res.text };
    },
    close: () => Promise.resolve(),
  };
}
