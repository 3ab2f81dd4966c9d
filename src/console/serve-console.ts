// `GET /console`: the admin console's page and scripts, built by Vite into dist/console (see
// console/). Served with a strict Content-Security-Policy: scripts, styles and API calls from
// this origin only (and the identity provider's, for sign-in), no inline code, nothing from a
// third party, no framing by other sites.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../common/errors.js';

/**
 * With OpenID Connect sign-in (CONSOLE_OIDC_CLIENT_ID) the page also reaches the provider's origin:
 * discovery and the token endpoint (the sign-in page itself is a navigation, not a fetch). A
 * provider whose token endpoint is on another origin than its issuer is not supported (Entra ID,
 * Auth0, Okta and Keycloak serve both from one).
 */
function consolePolicy(oidcIssuer: string | undefined): string {
  const connect = oidcIssuer ? `'self' ${new URL(oidcIssuer).origin}` : "'self'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/** dist/console of the package this file belongs to (compiled or run from source). */
function consoleDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'console');
}

export async function registerConsole(
  fastify: FastifyInstance,
  oidcIssuer: string | undefined,
): Promise<void> {
  const CONSOLE_CSP = consolePolicy(oidcIssuer);
  const root = consoleDirectory();
  const built = existsSync(join(root, 'index.html'));
  const headers = (reply: { header: (name: string, value: string) => unknown }) => {
    reply.header('content-security-policy', CONSOLE_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  };
  fastify.get('/console', async (_request, reply) => reply.redirect('/console/', 301));
  if (!built) {
    fastify.get('/console/', async () => {
      throw new AppError('unavailable', 'The admin console is not built: run npm run build.');
    });
    return;
  }
  const page = readFileSync(join(root, 'index.html'), 'utf8');
  fastify.get('/console/', async (_request, reply) => {
    headers(reply);
    // The page itself is never cached (it names the current scripts); the scripts are (hashed names).
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page);
  });
  await fastify.register(fastifyStatic, {
    root,
    prefix: '/console/',
    index: false,
    wildcard: true,
    decorateReply: false,
    setHeaders: (response, path) => {
      void response.header('content-security-policy', CONSOLE_CSP);
      void response.header('x-content-type-options', 'nosniff');
      void response.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      );
    },
  });
}
