import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type RequestWithIds = IncomingMessage & { id?: string; clientRequestId?: string | null };

/**
 * Fastify's request id: always one this service makes (a UUID), so logs and audit rows name
 * requests by an id no caller chose. The caller's own X-Request-Id, when it is a sane token, is
 * kept beside it (`clientRequestIdOf`). Both are stored on the raw request, so the HTTP logger
 * (which sees the raw request) logs the same ids.
 */
export function requestIdFor(req: IncomingMessage): string {
  const id = randomUUID();
  const header = req.headers['x-request-id'];
  const candidate = Array.isArray(header) ? header[0] : header;
  Object.assign(req as RequestWithIds, {
    id,
    clientRequestId: candidate && ACCEPTABLE_ID.test(candidate) ? candidate : null,
  });
  return id;
}

/** The caller's X-Request-Id, when it sent a sane one. */
export function clientRequestIdOf(req: IncomingMessage): string | null {
  return (req as RequestWithIds).clientRequestId ?? null;
}
