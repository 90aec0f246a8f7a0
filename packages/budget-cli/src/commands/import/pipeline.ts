/**
 * Sends an import's batches with several in flight, and runs each batch's bookkeeping (its summary
 * counts, its dedupe keys, its files' offsets) strictly in send order, once that batch and every
 * batch before it have landed.
 *
 * Why: against a remote service one batch at a time left the importer idle while the service and
 * PostgreSQL wrote, and them idle while it read the next 2,000 entries. Landing out of order is safe:
 * the ledger is idempotent on each record's key, and the state that makes a re-run skip lines only
 * ever advances over a prefix of batches that all landed, so a crash or a refused batch makes the
 * next run re-send (and the service count as duplicates) whatever landed after the gap.
 */
export interface BatchPipeline<T> {
  /**
   * Starts `send` once fewer than `depth` batches are in flight; `landed` runs with its answer after
   * every earlier batch's `landed`. Throws the error of the earliest batch that failed, after every
   * batch in flight has settled (so no request is abandoned mid-way); nothing lands after it.
   */
  push(send: () => Promise<T>, landed: (answer: T) => void): Promise<void>;
  /** Waits for every batch in flight; throws like {@link BatchPipeline.push}. */
  drain(): Promise<void>;
}

interface InFlight {
  /** The request alone: its own failure, if any, is what the user is told. */
  request: Promise<unknown>;
  /** The request, then the bookkeeping of it and of every batch before it. */
  done: Promise<void>;
}

/** A pipeline keeping at most `depth` (≥ 1) batches in flight. */
export function batchPipeline<T>(depth: number): BatchPipeline<T> {
  if (!Number.isInteger(depth) || depth < 1)
    throw new RangeError(`depth must be a positive integer: ${depth}`);
  const open: InFlight[] = [];
  let previous: Promise<void> = Promise.resolve();
  let failed = false;

  // The error of the earliest batch, in send order, that failed: its request's, or (when every request
  // up to it landed) its bookkeeping's. Batches after it are waited for, not reported.
  const settleAllAndThrow = async (): Promise<never> => {
    const batches = open.splice(0);
    const requests = await Promise.allSettled(batches.map((b) => b.request));
    const done = await Promise.allSettled(batches.map((b) => b.done));
    for (let i = 0; i < batches.length; i++) {
      const r = requests[i] as PromiseSettledResult<unknown>;
      if (r.status === 'rejected') throw r.reason;
      const d = done[i] as PromiseSettledResult<void>;
      if (d.status === 'rejected') throw d.reason;
    }
    throw new Error('an import batch failed without an error');
  };

  const waitFor = async (b: InFlight): Promise<void> => {
    try {
      await b.done;
    } catch {
      failed = true;
      open.unshift(b);
      await settleAllAndThrow();
    }
  };

  return {
    async push(send, landed) {
      if (failed) throw new Error('the import pipeline already failed');
      while (open.length >= depth) await waitFor(open.shift() as InFlight);
      const request = send();
      const done = Promise.all([previous, request]).then(([, answer]) => {
        landed(answer);
      });
      // Each promise is awaited later (waitFor, drain); these keep Node from reporting a rejection
      // that arrives before then as unhandled.
      request.catch(() => undefined);
      done.catch(() => undefined);
      previous = done;
      open.push({ request, done });
    },
    async drain() {
      while (open.length > 0) await waitFor(open.shift() as InFlight);
    },
  };
}
