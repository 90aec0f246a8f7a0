/** One answer from the service, whichever way it travelled. */
export interface ApiResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The raw body text (Markdown for reports, JSON otherwise). */
  text: string;
}

/**
 * How a command reaches the service's routes: over HTTP (remote) or through the service's own app
 * in this process (local, `app.inject()`). Both speak the same paths and bodies, so every command has
 * one code path.
 */
export interface Transport {
  readonly mode: 'remote' | 'local';
  /** Where requests go: a URL or a data directory, for messages. */
  readonly target: string;
  request(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  close(): Promise<void>;
}
