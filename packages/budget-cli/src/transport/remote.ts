import type { IncomingHttpHeaders } from 'node:http';
import { CliError, EXIT } from '../errors.js';
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
 * Talks to a running service over HTTP with a bearer token. Through node:http(s) rather than fetch:
 * with fetch, whose first use loads undici, a remote `gate` (what an orchestrator runs per dispatch)
 * took ~0.45 s against ~0.25 s now (docs/decisions.md). One request per command; a redirect is
 * reported, not followed.
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
    request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
      const url = new URL(`${base}${path}`);
      const { request } =
        url.protocol === 'https:'
          ? process.getBuiltinModule('node:https')
          : process.getBuiltinModule('node:http');
      const payload = body !== undefined ? JSON.stringify(body) : undefined;
      const headers: Record<string, string | number> = { accept: 'application/json, text/markdown' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      return new Promise<ApiResponse>((resolve, reject) => {
        const req = request(url, { method, headers });
        // Idle time on the socket, as undici counted it; destroying the request reports it below.
        req.setTimeout(idleTimeoutMs, () => {
          req.destroy(
            Object.assign(new Error(`no answer within ${idleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' }),
          );
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          reject(
            new CliError(
              'BUDGET_ERR_UNREACHABLE',
              `cannot reach the service at ${base} (${error.code === 'ETIMEDOUT' ? error.message : (error.code ?? error.message)})`,
              {
                exit: EXIT.unavailable,
                hint: 'start it with `mosaic budget serve`, or check --api / MOSAIC_BUDGET_URL',
              },
            ),
          );
        });
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400) {
            // The service never redirects; something in front of it does (http to https, a moved
            // host). Following it would resend the token and the body wherever it points, so the
            // user is told where it points instead.
            res.resume();
            const to = res.headers.location;
            reject(
              new CliError(
                'BUDGET_ERR_REDIRECTED',
                `the service at ${base} answered HTTP ${status}${to ? `, redirecting to ${to}` : ''}`,
                {
                  exit: EXIT.usage,
                  hint: 'point --api (or MOSAIC_BUDGET_URL) at the address the service answers on',
                  ...(to ? { details: { location: to } } : {}),
                },
              ),
            );
            return;
          }
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          // A connection cut mid-answer is as unreachable as one refused.
          res.on('error', (error: NodeJS.ErrnoException) => req.emit('error', error));
          res.on('end', () => resolve({ status, headers: flatHeaders(res.headers), text }));
        });
        req.end(payload);
      });
    },
    close: () => Promise.resolve(),
  };
}
