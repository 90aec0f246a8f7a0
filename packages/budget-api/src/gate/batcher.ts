import type { Kysely } from 'kysely';
import type { FleetDatabase } from '../db/schema.js';
import { reserveBatch, type ReserveOutcome, type ReservePayload } from './reserve.js';

// A statement carrying more entries holds its row locks longer; this bounds one batch's latency.
const MAX_BATCH = 64;

interface Waiting {
  payload: ReservePayload;
  resolve: (outcome: ReserveOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for reservations. While one `fleet.gate_reserve` statement is in flight, the
 * reservations that arrive queue here, and the next statement carries them all: under load the gate
 * sends one statement (one round trip, one commit, one acquisition of a hot ceiling's row lock) per
 * batch rather than per request, and concurrent reservations for one hot account no longer wait on
 * each other's row locks. An idle gate sends each reservation at once, so it adds no latency.
 *
 * Exactness is the statement's: it applies the entries in order, each against what the ones before it
 * took, and undoes an entry that no longer fits on its own (see migration 0003).
 */
export class ReserveBatcher {
  private readonly waiting: Waiting[] = [];
  private inFlight = false;

  constructor(private readonly db: Kysely<FleetDatabase>) {}

  /** Reserves with the next statement; resolves with this entry's own outcome. */
  submit(payload: ReservePayload): Promise<ReserveOutcome> {
    return new Promise<ReserveOutcome>((resolve, reject) => {
      this.waiting.push({ payload, resolve, reject });
      if (!this.inFlight) this.flush();
    });
  }

  private flush(): void {
    const batch = this.waiting.splice(0, MAX_BATCH);
    if (batch.length === 0) {
      this.inFlight = false;
      return;
    }
    this.inFlight = true;
    reserveBatch(
      this.db,
      batch.map((w) => w.payload),
    )
      .then(
        (outcomes) => batch.forEach((w, i) => w.resolve(outcomes[i] as ReserveOutcome)),
        // The statement as a whole failed (the database is down, a deadlock): every entry was undone,
        // and each caller handles the error as it would its own.
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => this.flush());
  }
}
