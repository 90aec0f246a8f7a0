import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decimal } from 'decimal.js';
import { dec, ZERO } from '@mosaic/budget-core';
import { apiAccount } from '../test-support/fixtures.js';
import {
  ensureApiBuilt,
  leakedSecrets,
  newToken,
  startReplica,
  stopAll,
  type Replica,
} from './support/replicas.js';
import { call, gateBody } from './support/http.js';
import { pool, rng } from './support/rng.js';

// Test 13: the embedded database (PGlite) is one process's alone, and that process stays exact.
const CEILING = '10.00';

describe('embedded exclusivity [pglite, processes]', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mosaic-rel-embedded-'));
  const token = newToken();
  let first: Replica | undefined;

  beforeAll(async () => {
    await ensureApiBuilt();
    first = await startReplica({ dataDir: dir, token });
  }, 300_000);
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second process on the same data directory with a clear message naming the holder', async () => {
    const error = await startReplica({ dataDir: dir, token, timeoutMs: 60_000 }).then(
      () => 'started',
      (e: unknown) => String(e),
    );
    expect(error).toContain('BUDGET_ERR_DATA_DIR_LOCKED');
    expect(error).toContain(`in use by pid ${first!.child.pid}`);
    // The holder is unharmed.
    expect((await call(first!.url, token, 'GET', '/readyz')).status).toBe(200);
  });

  it('stays exact under 500 concurrent reservations: never past the ceiling, ledger = sum of commits', async () => {
    const base = first!.url;
    expect(
      (await call(base, token, 'PUT', '/v1/accounts/acct-api', apiAccount('acct-api', CEILING))).status,
    ).toBe(201);
    expect((await call(base, token, 'PUT', '/v1/policy', { queue: { enabled: false } })).status).toBe(200);
    const random = rng(13);
    let committed: Decimal = ZERO;
    let reserved = 0;
    const statuses = new Map<number, number>();
    await pool(500, 500, async (i) => {
      const usd = dec(Math.floor(random() * 40) + 5).div(100);
      const g = await call(base, token, 'POST', '/v1/gate', gateBody(`emb-${i}`, usd.toString()), 180_000);
      statuses.set(g.status, (statuses.get(g.status) ?? 0) + 1);
      const id = g.json.reservationId;
      if (typeof id !== 'string') return;
      reserved++;
      if (i % 2 === 0) {
        const actual = usd.times(0.8).toDecimalPlaces(4);
        const c = await call(
          base,
          token,
          'POST',
          `/v1/reservations/${id}/commit`,
          { actual: { inputTokens: 1, outputTokens: 1, usd: actual.toString() } },
          180_000,
        );
        if (c.status === 200) committed = committed.plus(actual);
        statuses.set(1000 + c.status, (statuses.get(1000 + c.status) ?? 0) + 1);
      } else {
        const r = await call(base, token, 'POST', `/v1/reservations/${id}/release`, undefined, 180_000);
        statuses.set(2000 + r.status, (statuses.get(2000 + r.status) ?? 0) + 1);
      }
    });
    expect(
      [...statuses.keys()].every((s) => s % 1000 === 200),
      JSON.stringify([...statuses]),
    ).toBe(true);
    const pace = (await call(base, token, 'GET', '/v1/pace')).json as {
      accounts: { ceilingPeriod: { committedUsd: string; reservedUsd: string } }[];
    };
    const period = pace.accounts[0]!.ceilingPeriod;
    let ledger: Decimal = ZERO;
    let cursor: string | undefined;
    do {
      const page = (
        await call(
          base,
          token,
          'GET',
          `/v1/ledger?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        )
      ).json as { entries: { usd: string }[]; nextCursor?: string };
      for (const e of page.entries) ledger = ledger.plus(e.usd);
      cursor = page.nextCursor;
    } while (cursor);
    console.info(
      `[reliability:embedded] reservations=${reserved} committed=${committed.toString()} ledger=${ledger.toString()} period=${JSON.stringify(period)}`,
    );
    expect(reserved).toBeGreaterThan(0);
    expect(ledger.eq(committed), `${ledger.toString()} vs ${committed.toString()}`).toBe(true);
    expect(dec(period.committedUsd).eq(committed)).toBe(true);
    expect(dec(period.reservedUsd).isZero()).toBe(true);
    expect(dec(period.committedUsd).lte(CEILING)).toBe(true);
  }, 600_000);

  it('logged no token', async () => {
    await stopAll();
    expect(leakedSecrets([token])).toEqual([]);
  });
});
