// What happens to a request before any handler: how bodies are parsed and checked, how errors
// of the HTTP layer itself (bad header blocks, oversized headers) are answered, and which
// methods a path has (so a wrong method is a 405, not a 404).
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ErrorBody, ErrorCode } from './errors.js';
import { hasUnstorableCharacter } from './storable-text.js';

/** No request body of this API nests deeper; deeper ones are refused before validation walks them. */
const MAX_BODY_DEPTH = 32;

/**
 * JSON bodies through Fastify's own parser (prototype-poisoning protection kept), then checked
 * for what would fail later with a 500: text PostgreSQL cannot store (NUL, lone surrogates)
 * and nesting deep enough to overflow the validator's recursion. An empty body is accepted
 * where a body means nothing (DELETE, GET), as generated clients send `Content-Type` anyway.
 * Only JSON is accepted: text/plain is not parsed (415).
 */
export function registerJsonBodies(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && ['DELETE', 'GET', 'HEAD'].includes(request.method)) {
      done(null, undefined);
      return;
    }
    void parse(request, body as string, (error, value) => {
      if (error) {
        done(error, undefined);
        return;
      }
      // Every body of this API is one JSON object: anything else is refused before it is walked
      // or validated (a million-element array costs seconds in the validation pipe).
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        done(AppError.validation([{ field: 'body', message: 'body must be a JSON object' }]), undefined);
        return;
      }
      const problem = findBodyProblem(value);
      if (problem) {
        done(AppError.validation([problem]), undefined);
        return;
      }
      done(null, value);
    });
  });
}

interface Visit {
  value: unknown;
  depth: number;
  parent: Visit | undefined;
  key: string | number | undefined;
}

/** The JSON path of a visited value: built only once a problem is found (bodies may hold a million). */
function pathOf(visit: Visit): string {
  const segments: string[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) {
    segments.push(typeof at.key === 'number' ? `[${at.key}]` : `.${at.key}`);
  }
  return segments.reverse().join('').replace(/^\./, '') || 'body';
}

/**
 * The first value of a parsed body the service could not handle, with its path. Iterative, and
 * cheap per value: no path is built until a problem is found.
 */
export function findBodyProblem(body: unknown): { field: string; message: string } | undefined {
  const stack: Visit[] = [{ value: body, depth: 0, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { value, depth } = visit;
    if (typeof value === 'string') {
      if (hasUnstorableCharacter(value)) {
        const field = pathOf(visit);
        return {
          field,
          message: `${field} contains a character that is not allowed (NUL or an unpaired surrogate)`,
        };
      }
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) {
      const field = pathOf(visit);
      return { field, message: `${field} is nested too deeply (more than ${MAX_BODY_DEPTH} levels)` };
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        // Scalars other than strings need no visit.
        if (typeof item === 'string' || (item !== null && typeof item === 'object')) {
          stack.push({ value: item, depth: depth + 1, parent: visit, key: i });
        }
      }
      continue;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (hasUnstorableCharacter(key)) {
        const field = pathOf(visit);
        return {
          field,
          message: `${field} has a key with a character that is not allowed (NUL or an unpaired surrogate)`,
        };
      }
      const item: unknown = (value as Record<string, unknown>)[key];
      if (typeof item === 'string' || (item !== null && typeof item === 'object')) {
        stack.push({ value: item, depth: depth + 1, parent: visit, key });
      }
    }
  }
  return undefined;
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a malformed request line or
 * header, a header block over the size limit), answered in the API's error shape.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status: number;
  let code: ErrorCode;
  let message: string;
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    [status, code, message] = [
      431,
      'headers_too_large',
      'The request headers are larger than the server accepts.',
    ];
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    [status, code, message] = [408, 'request_timeout', 'The request was not received in time.'];
  } else {
    [status, code, message] = [400, 'validation_failed', 'The request is not valid HTTP.'];
  }
  const body: ErrorBody = {
    error: {
      code,
      message,
      ...(code === 'validation_failed' ? { details: [{ field: 'request', message }] } : {}),
      request_id: randomUUID(),
    },
  };
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nX-Request-Id: ${body.error.request_id}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}

/**
 * At most `max` open connections per client address (the TCP peer: behind a proxy, the proxy —
 * raise or disable the cap there); connections over it are closed at once. 0: no cap.
 */
export function limitConnectionsPerClient(server: Server, max: number): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

interface RouteMethods {
  pattern: RegExp;
  methods: Set<string>;
}

/** Call before the routes are registered: collects each route's pattern and methods. */
export function collectRoutes(fastify: FastifyInstance): void {
  const routes: RouteMethods[] = [];
  // A decoration, so the plugin contexts the routes live in (and their requests) see it too.
  fastify.decorate('routeMethods', routes);
  fastify.addHook('onRoute', (route) => {
    const source = `^${route.url
      .split('/')
      .map((part) =>
        part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/')}/?$`;
    let entry = routes.find((r) => r.pattern.source === source);
    if (!entry) {
      entry = { pattern: new RegExp(source), methods: new Set() };
      routes.push(entry);
    }
    for (const method of [route.method].flat()) entry.methods.add(method);
  });
}

/** The methods the request's path answers to (empty when the path is unknown). */
export function allowedMethods(request: FastifyRequest): string[] {
  const routes = (request.server as unknown as { routeMethods?: RouteMethods[] }).routeMethods ?? [];
  const path = request.url.split('?')[0];
  const methods = new Set<string>();
  for (const route of routes) if (route.pattern.test(path)) route.methods.forEach((m) => methods.add(m));
  return [...methods].sort();
}
