// Counts the database round trips of one gate request (and of its release), in process through
// `app.inject`, by wrapping pg's Client#query: the statements a decision costs, in order. The
// service's pg is the same module instance as this one (pnpm links one pg@8 into both).
import pg from 'pg';
import { buildApp, createToken, migrate, openDatabase } from '../packages/budget-api/dist/index.js';
import { gateRequest } from './requests.mjs';

/** Round trips of a gate request and its release, with the statements of the last one sampled. */
export async function countRoundTrips(url, accounts = 100, samples = 5) {
  const original = pg.Client.prototype.query;
  let log = [];
  pg.Client.prototype.query = function (...args) {
    const text = typeof args[0] === 'string' ? args[0] : args[0]?.text;
    log.push(String(text).replace(/\s+/g, ' ').slice(0, 110));
    return original.apply(this, args);
  };
  const database = await openDatabase({ databaseUrl: url });
  try {
    await migrate(database.db);
    const { token } = await createToken(database.db, { tenant: 'bench', scopes: ['admin'] });
    const app = await buildApp({ database, logger: false, background: false });
    const headers = { authorization: `Bearer ${token}` };
    for (let i = 0; i < accounts; i++) {
      await app.inject({
        method: 'PUT',
        url: `/v1/accounts/acct-${i}`,
        headers,
        payload: {
          id: `acct-${i}`,
          provider: 'anthropic',
          kind: 'api',
          models: ['claude-sonnet-4'],
          ceiling: { usd: '1000000000', period: 'P1M' },
        },
      });
    }
    // One gate request for a new task on `account`, and its reservation's release; `between` runs
    // after the gate answered, before the release is sent.
    async function gateThenRelease(taskId, account, between = () => {}) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/gate',
        headers,
        payload: gateRequest(taskId, account),
      });
      between();
      await app.inject({
        method: 'POST',
        url: `/v1/reservations/${res.json().reservationId}/release`,
        headers,
      });
    }
    // Steady state: every account has reserved once, so its running-total rows exist. A period's first
    // reservation creates its row, which makes the replica read the register afresh for the next
    // decision (an extra round trip that a busy account pays once a period, not per request).
    for (let i = 0; i <= samples; i++) await gateThenRelease(`rt-warm-${i}`, `acct-${i}`);
    const out = {};
    for (const shape of ['hot', 'spread']) {
      let gate = [];
      let release = [];
      for (let k = 0; k < samples; k++) {
        log = [];
        await gateThenRelease(`rt-${shape}-${k}`, shape === 'hot' ? 'acct-0' : `acct-${k + 1}`, () => {
          gate = log;
          log = [];
        });
        release = log;
      }
      out[shape] = {
        gate: gate.length,
        release: release.length,
        gateStatements: gate,
        releaseStatements: release,
      };
    }
    await app.close();
    return out;
  } finally {
    pg.Client.prototype.query = original;
    await database.close();
  }
}
