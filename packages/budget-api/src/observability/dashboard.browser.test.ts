import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { createToken } from '../auth/tokens.js';
import { freshDatabase, tenantClient, type TestDatabase } from '../test-support/backends.js';
import { seedDemo, type DemoSeed } from './demo-seed.js';

// Debian's chromium (`apt-get install -y chromium`); playwright-core drives it and downloads nothing.
const CHROMIUM = process.env.MOSAIC_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
// Under CI a missing browser fails the suite (below) instead of skipping it.
const RUN = HAVE_CHROMIUM || process.env.CI === 'true';
const SCREENSHOT = join(
  fileURLToPath(new URL('../../../..', import.meta.url)),
  'docs',
  'img',
  'dashboard.png',
);

describe.skipIf(!RUN)('the dashboard in headless Chromium', () => {
  let db: TestDatabase | undefined;
  let app: FastifyInstance | undefined;
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  let page: Page;
  let seed: DemoSeed;
  let readToken: string;
  let base: string;
  const offsite: string[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) {
      throw new Error(`no browser at ${CHROMIUM} and CI=true: install it with "apt-get install -y chromium"`);
    }
    db = await freshDatabase('pglite');
    app = await buildApp({ database: db.database, background: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const admin = await tenantClient(app, db.database, ['admin'], 'demo');
    seed = await seedDemo(admin.request);
    readToken = (await createToken(db.database.db, { tenant: 'demo', scopes: ['read'], name: 'dashboard' }))
      .token;

    profile = mkdtempSync(join(tmpdir(), 'mosaic-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1240, height: 900 },
      timeout: 60_000,
    });
    // The page must load nothing from outside this service (uPlot is served from node_modules).
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base)) return route.continue();
      offsite.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    // Generous: a database, a seed and a browser start on a loaded two-core machine.
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await app?.close();
    await db?.teardown();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('asks for a read token, then shows pace, resets, exhaustion, ceiling, queue and decisions', async () => {
    await page.goto(`${base}/ui`);
    await page.locator('#token').fill(readToken);
    await page.locator('#login button[type=submit]').click();

    const weekly = page.locator('[data-account="max-a"][data-window="weekly"]');
    await expect
      .poll(() => weekly.locator('[data-field="used"]').textContent(), { timeout: 30_000 })
      .toBe('78.0%');
    // Five of seven days elapsed: the ideal line stands at 71.4%, so 78% is ahead by 6.6 points.
    expect(await weekly.locator('[data-field="ideal"]').textContent()).toBe('71.4%');
    expect(await weekly.locator('[data-field="status"]').textContent()).toBe('ahead +6.6 pts');
    // (100 − 78)% over the two days left.
    expect(await weekly.locator('[data-field="target"]').textContent()).toBe('11.0% / day');
    const reset = `${seed.resetAt.toUTC().toISO()?.slice(0, 16).replace('T', ' ')} UTC (provider)`;
    expect(await weekly.locator('[data-field="reset"]').textContent()).toBe(reset);
    expect(await weekly.locator('[data-field="exhaustion"]').textContent()).toContain('(before reset)');
    await expect.poll(() => weekly.locator('.uplot canvas').count()).toBeGreaterThan(0);

    const ceiling = page.locator('[data-account="acct-api"][data-ceiling="P1D"]');
    expect(await ceiling.locator('[data-field="committed"]').textContent()).toBe('$3.50');
    expect(await ceiling.locator('[data-field="ceiling"]').textContent()).toBe('$10.00');

    const allowed = page.locator('#decisions tr[data-task="g-1"]');
    expect(await allowed.getAttribute('data-decision')).toBe('allow');
    if (seed.queuedTask) {
      expect(await page.locator(`#queue tr[data-task="${seed.queuedTask}"]`).count()).toBe(1);
      expect(
        await page.locator(`#decisions tr[data-task="${seed.queuedTask}"]`).getAttribute('data-decision'),
      ).toBe('queue');
    }
    expect(offsite).toEqual([]);

    // Refreshed live: a new signal shows up without reloading the page.
    const token = (await createToken(db!.database.db, { tenant: 'demo', scopes: ['ingest'] })).token;
    const res = await app!.inject({
      method: 'POST',
      url: '/v1/usage-signals',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        signals: [
          { account: 'max-a', window: 'weekly', usedPercent: '80', observedAt: new Date().toISOString() },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    await expect
      .poll(() => weekly.locator('[data-field="used"]').textContent(), { timeout: 30_000 })
      .toBe('80.0%');

    const shot = await page.screenshot({ fullPage: true });
    expect(shot.length).toBeGreaterThan(10_000);
    // The committed screenshot is refreshed on request only, so test runs leave the work tree clean.
    if (process.env.MOSAIC_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
  }, 150_000);

  it('sends an unauthenticated visitor back to the token form when the token is refused', async () => {
    // A string runs in the page (this test is typed without the DOM library).
    await page.evaluate("sessionStorage.setItem('mosaic.budget.readToken', 'not-a-token')");
    await page.goto(`${base}/ui`);
    await expect.poll(() => page.locator('#login').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.locator('#dashboard').isVisible()).toBe(false);
  }, 60_000);
});
