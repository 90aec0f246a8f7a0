import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { idSchema, labelSchema } from '@mosaic/budget-core';
import { dashboardPace, latestDecisions } from '../observability/dashboard.js';
import { databaseNow } from '../gate/snapshot.js';
import { instant } from '../register/wire.js';

// The package root is two levels up from both src/routes and dist/routes, so the page's files are
// found the same way from the sources (tests) and from the build (the running service).
const UI_DIR = join(fileURLToPath(new URL('../..', import.meta.url)), 'src', 'ui');
// uPlot is vendored through npm: its dist files are served from node_modules, never from a CDN.
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

/** The files of the page: URL path, file, content type. */
const ASSETS: [string, string, string][] = [
  ['/ui', join(UI_DIR, 'index.html'), 'text/html; charset=utf-8'],
  ['/ui/app.js', join(UI_DIR, 'app.js'), 'text/javascript; charset=utf-8'],
  ['/ui/app.css', join(UI_DIR, 'app.css'), 'text/css; charset=utf-8'],
  ['/ui/vendor/uPlot.iife.min.js', join(UPLOT_DIR, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  ['/ui/vendor/uPlot.min.css', join(UPLOT_DIR, 'uPlot.min.css'), 'text/css; charset=utf-8'],
];

// The page loads only its own files; data comes from this origin's JSON routes.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The read-only dashboard: `GET /ui` and its static files (public: they hold no data), and the two
 * read-scoped JSON routes it needs beyond `/v1/queue`: `GET /v1/pace/history` and `GET /v1/decisions`.
 */
export const uiRoutes: FastifyPluginAsyncZod = async (app) => {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [path, file, type] of ASSETS) files.set(path, { body: await readFile(file), type });

  for (const path of files.keys()) {
    app.get(path, { schema: { hide: true } }, (_request, reply) => {
      const f = files.get(path);
      if (!f) return reply.callNotFound();
      return reply
        .type(f.type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(f.body);
    });
  }
  app.get('/ui/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/ui'));

  app.get(
    '/v1/pace/history',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['observability'],
        summary:
          'Pace per account and window with chart series: usage signals and the ideal line over the previous and current period',
        querystring: z.object({ account: idSchema.optional() }),
      },
    },
    async (request) => {
      const now = instant(await databaseNow(app.database.db));
      return dashboardPace(
        app.database.db,
        app.configCache,
        request.principal.tenantId,
        now,
        request.query.account,
      );
    },
  );

  app.get(
    '/v1/decisions',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['observability'],
        summary: 'The newest gate decisions with their reasons, newest first',
        querystring: z.object({
          account: idSchema.optional(),
          /** One task's decisions, newest first, each with its trace. */
          task: labelSchema.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
    },
    async (request) =>
      latestDecisions(
        app.database.db,
        request.principal.tenantId,
        request.query.limit,
        request.query.account,
        request.query.task,
      ),
  );
};
