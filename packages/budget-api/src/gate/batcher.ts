import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { FleetDatabase } from '../db/schema.js';
import { reserveBatch, type ReserveOutcome, type ReservePayload } from './reserve.js';

// A statement carrying more entries holds its row locks longer; this bounds one batch's latency.
const MAX_BATCH = 64;

interface Waiting<P, R> {
  payload: P;
  resolve: (outcome: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit. While one statement is in flight, the entries that arrive queue here, and the next
 * statement carries them all: under load the gate sends one statement (one round trip, one commit, one
 * acquisition of a hot row's lock) per batch rather than per request, and concurrent entries for one
 * hot account no longer wait on each other's row locks. An idle gate sends each entry at once, so it
 * adds no latency. Exactness is the statement's: it applies the entries in order and answers each
 * alone (see migrations 0003 and 0004).
 */
export class GroupCommit<P, R> {
  private readonly waiting: Waiting<P, R>[] = [];
  private inFlight = false;

  constructor(private readonly run: (payloads: P[]) => Promise<R[]>) {}

  /** Sends the entry with the next statement; resolves with its own answer. */
  submit(payload: P): Promise<R> {
    return new Promise<R>((resolve, reject) => {
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
    this.run(batch.map((w) => w.payload))
      .then(
        (answers) => batch.forEach((w, i) => w.resolve(answers[i] as R)),
        // The statement as a whole failed (the database is down, a deadlock): every entry was undone,
        // and each caller handles the error as it would its own.
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => this.flush());
  }
}

/** Group commit of reservations through `fleet.gate_reserve`. */
export function reserveGroup(db: Kysely<FleetDatabase>): GroupCommit<ReservePayload, ReserveOutcome> {
  return new GroupCommit((payloads) => reserveBatch(db, payloads));
}

/** One settlement as `fleet.reservation_settle_batch` takes it. */
export interface SettlePayload {
  tenant: string | null;
  id: string;
  to: 'released' | 'expired';
  tokenId?: string;
}

/** Group commit of releases through `fleet.reservation_settle_batch`. */
export function settleGroup<R>(db: Kysely<FleetDatabase>): GroupCommit<SettlePayload, R> {
  return new GroupCommit(async (payloads) => {
    const result = await sql<{ answers: R[] }>`
      select fleet.reservation_settle_batch(${JSON.stringify(payloads)}::jsonb) as answers
    `.execute(db);
    const answers = result.rows[0]?.answers;
    if (!answers || answers.length !== payloads.length) {
      throw new Error(
        'fleet.reservation_settle_batch answered a different number of entries than it was given',
      );
    }
    return answers;
  });
}
