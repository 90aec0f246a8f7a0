import type { WireSignal } from '../../spool/write.js';

/**
 * The longest the status line waits for the service to take its signals. A status line runs on
 * every prompt; a service that does not answer this fast costs one reading, not the user's time.
 */
export const RECORD_TIMEOUT_MS = 400;

/**
 * Sends the signals to a running service: one `POST /v1/usage-signals`, given up after
 * {@link RECORD_TIMEOUT_MS}. `sent` resolves once the request has left for the service (or failed),
 * so the caller can compute its line while the service works; `answer` resolves to undefined when
 * the service took the signals, else to a short reason for the status line (`unreachable`,
 * `timeout`, an error code). Uses node:http rather than fetch, whose first use loads undici: tens of
 * milliseconds on every prompt.
 */
export function sendSignals(
  base: string,
  token: string | undefined,
  signals: WireSignal[],
): { sent: Promise<void>; answer: Promise<string | undefined> } {
  const url = new URL(`${base.replace(/\/+$/, '')}/v1/usage-signals`);
  const { request } =
    url.protocol === 'https:'
      ? process.getBuiltinModule('node:https')
      : process.getBuiltinModule('node:http');
  const body = JSON.stringify({ signals });
  let flushed: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (flushed = resolve));
  const answer = new Promise<string | undefined>((resolve) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });
    // One deadline for connecting, sending and reading the answer; destroying the request afterwards
    // emits an error that no longer changes the outcome.
    const timer = setTimeout(() => {
      flushed();
      resolve('timeout');
      req.destroy();
    }, RECORD_TIMEOUT_MS);
    const done = (reason: string | undefined): void => {
      clearTimeout(timer);
      flushed();
      resolve(reason);
    };
    // The connection opens on a later tick: 'finish' says the body is handed to the operating system.
    req.on('finish', flushed);
    req.on('error', (error: NodeJS.ErrnoException) => {
      done(error.code === 'ECONNREFUSED' ? 'unreachable' : (error.code ?? 'unreachable'));
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if ((res.statusCode ?? 500) < 300) return done(undefined);
        let code = `HTTP ${res.statusCode ?? '?'}`;
        try {
          code = (JSON.parse(text) as { code?: string }).code ?? code;
        } catch {
          // Not a problem document: the status is the reason.
        }
        done(code);
      });
    });
    req.end(body);
  });
  return { sent, answer };
}
