import type { WireSignal } from '../../spool/write.js';
import { sendHttp } from '../../transport/http.js';

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
 * `timeout`, an error code). Through {@link sendHttp}, not fetch: loading undici would cost tens of
 * milliseconds on every prompt.
 */
export function sendSignals(
  base: string,
  token: string | undefined,
  signals: WireSignal[],
): { sent: Promise<void>; answer: Promise<string | undefined> } {
  const url = new URL(`${base.replace(/\/+$/, '')}/v1/usage-signals`);
  const { request, answer } = sendHttp(url, 'POST', { token, body: JSON.stringify({ signals }) });
  let flushed: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (flushed = resolve));
  // The connection opens on a later tick: 'finish' says the body is handed to the operating system.
  request.on('finish', flushed);
  let timer: NodeJS.Timeout | undefined;
  // One deadline for connecting, sending and reading the answer; destroying the request afterwards
  // rejects an answer that no longer changes the outcome.
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout');
      request.destroy();
    }, RECORD_TIMEOUT_MS);
  });
  const reason = answer.then(
    (res) => {
      if (res.status < 300) return undefined;
      try {
        return (JSON.parse(res.text) as { code?: string }).code ?? `HTTP ${res.status}`;
      } catch {
        // Not a problem document: the status is the reason.
        return `HTTP ${res.status}`;
      }
    },
    (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNREFUSED' ? 'unreachable' : (error.code ?? 'unreachable'),
  );
  const outcome = Promise.race([reason, deadline]).finally(() => {
    clearTimeout(timer);
    flushed();
  });
  return { sent, answer: outcome };
}
