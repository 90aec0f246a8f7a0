import type { ClientRequest, IncomingHttpHeaders } from 'node:http';

/** A service's answer as read off the socket: status, headers and the body as text. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * Sends one request to the service through node:http(s) — not fetch, whose first use loads undici,
 * tens of milliseconds that the status line and every remote command would pay (docs/decisions.md).
 * `body` is sent as JSON, `token` as a bearer token. `answer` resolves with whatever the service
 * answered and rejects with the socket's error (refused, reset, cut mid-answer, or whatever the
 * caller destroys `request` with); the caller keeps `request` for its own deadline and for knowing
 * when the body has left ('finish').
 */
export function sendHttp(
  url: URL,
  method: string,
  options: { token?: string | undefined; body?: string | undefined; accept?: string },
): { request: ClientRequest; answer: Promise<HttpAnswer> } {
  const { request } =
    url.protocol === 'https:'
      ? process.getBuiltinModule('node:https')
      : process.getBuiltinModule('node:http');
  const headers: Record<string, string | number> = {};
  if (options.accept !== undefined) headers.accept = options.accept;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  // The body is encoded once and its length read off the bytes: measuring the text's UTF-8 length and
  // letting the socket encode it again each walk the whole string, ~3 ms per import batch apiece.
  const body = options.body !== undefined ? Buffer.from(options.body) : undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = body.length;
  }
  const req = request(url, { method, headers });
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
  });
  req.end(body);
  return { request: req, answer };
}
