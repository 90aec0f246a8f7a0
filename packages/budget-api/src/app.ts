import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import fastifySwagger from '@fastify/swagger';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Database } from './db/database.js';
import { BudgetApiError, problem, type ErrorCode, type ProblemIssue } from './errors.js';
import { hasScope, type Principal, type Scope } from './auth/scopes.js';
import { hashToken, verifyToken } from './auth/tokens.js';
import { VerifiedTokens } from './auth/verified-tokens.js';
import { AuthThrottle, scrubTokens } from './auth/auth-throttle.js';
import { isDatabaseDown } from './db/errors.js';
import { healthRoutes } from './routes/health.js';
import { registerRoutes } from './routes/register.js';
import { gateRoutes } from './routes/gate.js';
import { ConfigCache } from './register/config-cache.js';
import { GateService } from './gate/service.js';
import { registerObservability } from './observability/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The register database. */
    database: Database;
    /** Per-tenant policy and account configuration, cached and invalidated by version. */
    configCache: ConfigCache;
    /** Gate operations (decide, reserve, commit, release, queue). */
    gate: GateService;
    /** Tokens verified on this replica, for routes that re-confirm the token in their own statement. */
    verifiedTokens: VerifiedTokens;
  }
  interface FastifyRequest {
    /** Who is calling; set by the auth hook on every `/v1` route. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health, OpenAPI). */
    scope?: Scope;
    /**
     * The route re-reads its token's row in the same statement as its own work (and answers
     * `BUDGET_ERR_UNAUTHENTICATED` when it is revoked), so the auth hook may take the principal from
     * {@link VerifiedTokens} instead of a round trip of its own.
     */
    confirmsToken?: boolean;
  }
}

/** What {@link buildApp} needs. */
export interface AppDeps {
  database: Database;
  /** Fastify logger option; default off (the server passes a redacting pino config). */
  logger?: FastifyServerOptions['logger'];
  /**
   * An in-process caller (the CLI's local mode) acting as this principal on requests that carry no
   * Authorization header. Never set it on a listening server.
   */
  localPrincipal?: Principal;
  /** Largest request body in bytes; default 16 MiB (10,000 spend records fit). */
  bodyLimit?: number;
  /** Start the reservation-expiry and queue-admission timer (default true; tests may drive it by hand). */
  background?: boolean;
  /** Failed authentications one client address may make per minute before it gets 429 (default 20). */
  authFailuresPerMinute?: number;
  /** Serve `/metrics` without a token, all tenants (default: `BUDGET_METRICS_PUBLIC`, else false). */
  metricsPublic?: boolean;
}

/** Keys pino must never print: tokens travel only in the Authorization header. */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'request.headers.authorization',
  'authorization',
  'token',
  '*.token',
];

/** The request as logged: the default fields, with token-shaped text blanked from the URL. */
function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: scrubTokens(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  instance: string,
  issues?: ProblemIssue[],
  extra?: Record<string, unknown>,
): FastifyReply {
  const doc = problem(code, detail, { instance, issues, extra });
  if (
    code === 'BUDGET_ERR_DATABASE_UNAVAILABLE' ||
    code === 'BUDGET_ERR_NOT_READY' ||
    code === 'BUDGET_ERR_CONTENTION'
  ) {
    void reply.header('retry-after', '5');
  }
  if (code === 'BUDGET_ERR_RATE_LIMITED') {
    void reply.header('retry-after', String(Number(extra?.retryAfterSeconds ?? 60)));
  }
  return reply.status(doc.status).type('application/problem+json').send(doc);
}

/**
 * Builds the service (routes, auth, errors, OpenAPI) without listening; tests and the CLI's local
 * mode call it through `app.inject()`.
 * @example const app = await buildApp({ database }); const res = await app.inject({ url: '/healthz' });
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // A token a client misplaced in the URL must not reach the log either.
    logger:
      deps.logger && typeof deps.logger === 'object'
        ? { serializers: { req: serializeRequest }, ...deps.logger }
        : (deps.logger ?? false),
    bodyLimit: deps.bodyLimit ?? 16 * 1024 * 1024,
    // Ids are at most 128 characters; percent-encoding can triple that.
    routerOptions: { maxParamLength: 512 },
    // Errors the router raises before any handler (a too-long parameter, a bad URL encoding) are
    // problem documents too.
    frameworkErrors: (error, request, reply) => {
      const code =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'BUDGET_ERR_URI_TOO_LONG' : 'BUDGET_ERR_VALIDATION';
      const doc = problem(code, error.message, { instance: request.url.split('?')[0] ?? request.url });
      // The framework hands a reply typed for no route in particular; any status and body are fine here.
      void (reply as unknown as FastifyReply).status(doc.status).type('application/problem+json').send(doc);
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('database', deps.database);
  app.decorate('configCache', new ConfigCache(deps.database.db));
  app.decorate('gate', new GateService(deps.database.db, app.configCache));
  app.decorate('verifiedTokens', new VerifiedTokens());
  app.decorateRequest('principal', undefined as unknown as Principal);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const instance = request.url.split('?')[0] ?? request.url;
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues: ProblemIssue[] = error.validation.map(
        (v: { instancePath: string; message?: string; keyword: string }) => ({
          path: [
            ...(error.validationContext ? [error.validationContext] : []),
            ...String(v.instancePath)
              .split('/')
              .filter((p) => p !== ''),
          ],
          message: String(v.message),
          code: String(v.keyword),
        }),
      );
      return sendProblem(
        reply,
        'BUDGET_ERR_VALIDATION',
        `the request ${error.validationContext ?? ''} does not match the schema`,
        instance,
        issues,
      );
    }
    if (error instanceof BudgetApiError) {
      return sendProblem(reply, error.code, error.message, instance, error.issues, error.extra);
    }
    // PostgreSQL's data-exception class (22xxx: a NUL byte in text, a number or date out of range) means
    // the client sent a value the database cannot hold: a 400, and the transaction wrote nothing.
    const pgCode = (error as { code?: unknown }).code;
    if (typeof pgCode === 'string' && /^22[0-9A-Z]{3}$/.test(pgCode)) {
      return sendProblem(
        reply,
        'BUDGET_ERR_VALIDATION',
        `a value cannot be stored: ${error.message}`,
        instance,
      );
    }
    if (isDatabaseDown(error)) {
      request.log.warn({ err: error.message }, 'database unavailable');
      return sendProblem(
        reply,
        'BUDGET_ERR_DATABASE_UNAVAILABLE',
        'the register database cannot be reached; retry later (nothing was written)',
        instance,
      );
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(reply, 'BUDGET_ERR_MALFORMED_JSON', error.message, instance);
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(reply, 'BUDGET_ERR_BODY_TOO_LARGE', error.message, instance);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendProblem(reply, 'BUDGET_ERR_UNSUPPORTED_MEDIA_TYPE', error.message, instance);
      default:
        break;
    }
    if (error instanceof SyntaxError) {
      return sendProblem(reply, 'BUDGET_ERR_MALFORMED_JSON', error.message, instance);
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, 'BUDGET_ERR_VALIDATION', error.message, instance);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, 'BUDGET_ERR_INTERNAL', 'an internal error occurred', instance);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      'BUDGET_ERR_NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
      request.url.split('?')[0] ?? request.url,
    ),
  );

  const throttle = new AuthThrottle(deps.authFailuresPerMinute ?? 20);
  // Authentication: every route that declares a scope needs a bearer token with it (or the local principal).
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const header = request.headers.authorization;
    let principal: Principal | undefined;
    if (header === undefined && deps.localPrincipal) {
      principal = deps.localPrincipal;
    } else {
      // A client that keeps failing is refused before its guesses reach the token table.
      const wait = throttle.blockedFor(request.ip, Date.now());
      if (wait > 0) {
        throw new BudgetApiError(
          'BUDGET_ERR_RATE_LIMITED',
          `too many failed authentication attempts from this client; retry in ${wait} s`,
          { extra: { retryAfterSeconds: wait } },
        );
      }
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
      if (!match?.[1]) {
        throttle.fail(request.ip, Date.now());
        throw new BudgetApiError('BUDGET_ERR_UNAUTHENTICATED', 'send "Authorization: Bearer <token>"');
      }
      const token = match[1];
      const confirms = request.routeOptions.config.confirmsToken === true && token.length <= 512;
      const hash = confirms ? hashToken(token) : '';
      principal = confirms ? app.verifiedTokens.get(hash, Date.now()) : undefined;
      if (!principal) {
        principal = await verifyToken(deps.database.db, token);
        if (principal && confirms) app.verifiedTokens.set(hash, principal, Date.now());
      }
      if (!principal) {
        throttle.fail(request.ip, Date.now());
        throw new BudgetApiError('BUDGET_ERR_UNAUTHENTICATED', 'the token is unknown or revoked');
      }
    }
    if (!hasScope(principal, scope)) {
      throw new BudgetApiError('BUDGET_ERR_FORBIDDEN', `this route needs the "${scope}" scope`);
    }
    request.principal = principal;
  });
  // A route that confirms its own token answers 401 when its statement finds the token revoked: this
  // replica then forgets the principal it had verified for it, so the next request reads the token
  // table again (a cached principal saves a round trip, never a revocation check).
  app.addHook('onError', async (request, _reply, error) => {
    const tokenId = request.principal?.tokenId;
    if (
      request.routeOptions.config.confirmsToken === true &&
      tokenId &&
      error instanceof BudgetApiError &&
      error.code === 'BUDGET_ERR_UNAUTHENTICATED'
    ) {
      app.verifiedTokens.evictToken(tokenId);
    }
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Mosaic Fleet budget API',
        description: 'The register and dispatch gate of Mosaic Fleet budget governance.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  // Metrics, scrape-time gauges and the dashboard; its gate-duration hook must precede the gate routes.
  await registerObservability(app, {
    ...(deps.metricsPublic !== undefined ? { metricsPublic: deps.metricsPublic } : {}),
  });
  await app.register(healthRoutes);
  await app.register(registerRoutes);
  await app.register(gateRoutes);

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  if (deps.background !== false) app.gate.startBackground(app.log);
  // Long-polls return at once and admissions finish before the pool closes.
  app.addHook('onClose', () => app.gate.stopBackground());
  return app;
}
