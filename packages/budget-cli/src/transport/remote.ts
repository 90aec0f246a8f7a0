import { CliError, EXIT } from '../errors.js';
import type { ApiResponse, Transport } from './transport.js';

/** Talks to a running service over HTTP with a bearer token. */
export function remoteTransport(baseUrl: string, token: string | undefined): Transport {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    mode: 'remote',
    target: base,
    async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
      const headers: Record<string, string> = { accept: 'application/json, text/markdown' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (error) {
        // undici wraps the socket error: ECONNREFUSED and friends sit in `cause` (or its `errors`).
        const c = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })
          .cause;
        const cause = c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (error as Error).message;
        throw new CliError('BUDGET_ERR_UNREACHABLE', `cannot reach the service at ${base} (${cause})`, {
          exit: EXIT.unavailable,
          hint: 'start it with `mosaic budget serve`, or check --api / MOSAIC_BUDGET_URL',
        });
      }
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        out[k] = v;
      });
      return { status: res.status, headers: out, text: await res.text() };
    },
    close: () => Promise.resolve(),
  };
}
