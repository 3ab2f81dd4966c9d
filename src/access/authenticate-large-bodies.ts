import type { FastifyInstance } from 'fastify';
import type { AuthenticatedRequest } from './access.decorators.js';
import type { TokenVerifier } from './token-verifier.js';

/**
 * A body over the ordinary limit (the handoff route takes 1 MiB) is read only for a caller whose
 * token is valid: anyone else is answered 401 before a byte of it is parsed, so nobody without a
 * token can make the service parse and walk megabytes. The principal is kept on the request for
 * the access guard, which then checks only the roles.
 */
export function authenticateLargeBodies(
  fastify: FastifyInstance,
  verifier: TokenVerifier,
  ordinaryLimit: number,
): void {
  fastify.addHook('preParsing', async (request) => {
    if (request.routeOptions.bodyLimit <= ordinaryLimit || !request.url.startsWith('/api/')) return;
    (request as AuthenticatedRequest).principal = await verifier.verify(request.headers.authorization);
  });
}
