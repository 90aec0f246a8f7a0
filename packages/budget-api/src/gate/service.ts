import type { FastifyBaseLogger } from 'fastify';
import type { FleetDb } from '../db/database.js';
import type { ConfigCache } from '../register/config-cache.js';

/** The gate: decide, reserve, settle, queue and the background sweeper. */
export class GateService {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: FleetDb,
    private readonly config: ConfigCache,
  ) {}

  /** Called whenever capacity can have changed for a tenant: re-evaluates its queue. */
  async capacityChanged(_tenantId: string): Promise<void> {
    await Promise.resolve();
  }

  /** Starts the expiry sweeper and queue-admission timer. */
  startBackground(_log: FastifyBaseLogger): void {
    void this.db;
    void this.config;
  }

  /** Stops the background timer. */
  stopBackground(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
