import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's request id: the caller's X-Request-Id when it is a sane token, otherwise a new UUID.
 * Stored on the raw request too, so the HTTP logger (which sees the raw request) logs the same id.
 */
export function requestIdFor(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  const candidate = Array.isArray(header) ? header[0] : header;
  const id = candidate && ACCEPTABLE_ID.test(candidate) ? candidate : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  return id;
}
