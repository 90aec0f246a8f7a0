/**
 * Counts failed authentications per client address in fixed windows, so a client guessing tokens is
 * slowed to `limit` guesses per window while every other client is unaffected. Memory is bounded: at
 * most `maxClients` addresses are tracked, the oldest window evicted first.
 */
export class AuthThrottle {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    readonly limit = 20,
    readonly windowMs = 60_000,
    private readonly maxClients = 10_000,
  ) {}

  /** Seconds until `client` may try to authenticate again; 0 when it may try now. */
  blockedFor(client: string, now: number): number {
    const w = this.windows.get(client);
    if (!w || now - w.start >= this.windowMs) return 0;
    return w.failures >= this.limit ? Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)) : 0;
  }

  /** Records one failed authentication by `client`. */
  fail(client: string, now: number): void {
    const w = this.windows.get(client);
    if (w && now - w.start < this.windowMs) {
      w.failures++;
      return;
    }
    this.windows.delete(client);
    if (this.windows.size >= this.maxClients) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    // Insertion order is window-start order, which makes the first key the oldest to evict.
    this.windows.set(client, { start: now, failures: 1 });
  }
}

const TOKEN_TEXT = /mbt_[0-9a-f]{16}_[A-Za-z0-9_-]+/g;

/** A URL with anything shaped like a bearer token blanked, for log lines (a client may misplace one). */
export function scrubTokens(text: string): string {
  return text.replace(TOKEN_TEXT, 'mbt_[redacted]');
}
