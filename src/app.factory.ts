import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { authenticateLargeBodies } from './access/authenticate-large-bodies.js';
import { TokenVerifier } from './access/token-verifier.js';
import { AppModule, AppModuleOptions } from './app.module.js';
import { auditRuntimeLimits } from './audit/audit-schema.js';
import { migrateAndGrant } from './database/runtime-role.js';
import { registerConsole } from './console/serve-console.js';
import {
  clientErrorHandler,
  collectRoutes,
  limitConnectionsPerClient,
  registerJsonBodies,
} from './common/http-edge.js';
import { clientRequestIdOf, requestIdFor } from './common/request-id.js';
import { createValidationPipe } from './common/validation.js';
import { AppLogger } from './logging/app-logger.js';
import { MetricsService } from './metrics/metrics.service.js';

const BODY_LIMIT_BYTES = 64 * 1024;
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Builds the fully configured application (not yet listening): used by main and by tests. */
export async function createApp(options: AppModuleOptions): Promise<NestFastifyApplication> {
  // Two roles: the owner migrates (and grants), the service runs as a role that owns nothing.
  const migrationUrl = options.config.databaseMigrationUrl;
  if (migrationUrl && !options.config.dbSkipMigrations) {
    await migrateAndGrant(migrationUrl, options.databaseUrl, auditRuntimeLimits);
    options = { ...options, migrated: true };
  }
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdFor,
    requestIdHeader: false,
    return503OnClosing: true,
    // Node's own request timeout is off unless set: a client sending a byte every few seconds
    // would hold its connection for ever. The whole request must arrive within
    // HTTP_REQUEST_TIMEOUT, its headers within HTTP_HEADERS_TIMEOUT (checked every second), and a
    // connection idle for HTTP_IDLE_TIMEOUT is closed (event streams send a comment well within it).
    requestTimeout: options.config.httpRequestTimeoutMs,
    connectionTimeout: options.config.httpIdleTimeoutMs,
    keepAliveTimeout: Math.min(72_000, options.config.httpIdleTimeoutMs),
    http: {
      headersTimeout: options.config.httpHeadersTimeoutMs,
      requestTimeout: options.config.httpRequestTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    // Client IPs in audit events come from X-Forwarded-For only from configured proxies.
    trustProxy: options.config.trustProxy,
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, {
    bufferLogs: true,
    // Bodies are parsed by our own registration on Fastify (registerJsonBodies), not Nest's.
    bodyParser: false,
  });
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  app.useGlobalPipes(createValidationPipe());

  const fastify = app.getHttpAdapter().getInstance();
  limitConnectionsPerClient(fastify.server, options.config.httpMaxConnectionsPerClient);
  registerJsonBodies(fastify);
  authenticateLargeBodies(fastify, app.get(TokenVerifier), BODY_LIMIT_BYTES);
  collectRoutes(fastify);
  // A route may raise its body limit with @RouteConfig({ bodyLimit }) (the handoff route does).
  fastify.addHook('onRoute', (route) => {
    const config: { bodyLimit?: unknown } | undefined = route.config;
    const limit = config?.bodyLimit;
    if (typeof limit === 'number') route.bodyLimit = limit;
  });
  logger.attach(fastify);
  await registerConsole(fastify, options.config.consoleOidc?.issuer);
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const clientRequestId = clientRequestIdOf(request.raw);
    if (clientRequestId) void reply.header('x-client-request-id', clientRequestId);
    // Every API answer is one org's data for one caller: no shared or browser cache keeps it.
    if (request.url.startsWith('/api/')) void reply.header('cache-control', 'no-store');
  });
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeHttpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('dynamics365-connector')
      .setDescription(
        "Connect an organisation's Microsoft Dynamics 365 environment. Every /api route needs a bearer JWT " +
          'with `sub`, `org_id` and `roles` claims; writes and audit reads need the `admin` role.',
      )
      .setVersion('1')
      .addServer('/', 'This service')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  // Swagger UI shares the console's origin: it runs only its own files (its page has no inline
  // script; its two <style> blocks need inline styles), and no other site may frame it.
  fastify.addHook('onSend', async (request, reply) => {
    if (request.url === '/docs' || request.url.startsWith('/docs/') || request.url.startsWith('/docs?')) {
      void reply.header('content-security-policy', DOCS_CSP);
      void reply.header('x-content-type-options', 'nosniff');
    }
  });

  await app.init();
  return app;
}
