/**
 * Field names whose values never reach a log line, at any depth: secrets, tokens, passwords,
 * credentials and authorization headers, and the bound values of a failed query (`parameters` of
 * TypeORM's QueryFailedError), which can be anything. Matching is on the key, so a new field named
 * `*_secret` or `*token*` is covered without touching this list.
 */
const SENSITIVE_KEY =
  /secret|token|password|passwd|authorization|cookie|credential|api[-_]?key|private[-_]?key|assertion|^pfx|^parameters$/i;
export const REDACTED = '[Redacted]';

function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/** `client_secret=abc`, `"token": "abc"`, `password: abc` inside free text (messages, stacks). */
const SENSITIVE_ASSIGNMENT =
  /((?:secret|token|password|passwd|authorization|credential|api[-_]?key|private[-_]?key|client_assertion|pfx)[\w-]*["']?\s*[:=]\s*["']?)(?:Bearer\s+)?[^\s"'&,;}]+/gi;

/** A PEM private key (PKCS#8, PKCS#1, encrypted) anywhere in a text: certificate credentials' keys. */
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g;

function scrubText(text: string): string {
  return text.replace(PEM_PRIVATE_KEY, REDACTED).replace(SENSITIVE_ASSIGNMENT, `$1${REDACTED}`);
}

export function redactDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return scrubText(value) as T;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redactError(value, depth) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item, depth + 1)) as T;
  // Class instances (raw requests, sockets, buffers) are left to pino's serializers, which
  // only emit chosen fields; walking them would be slow and could mangle them.
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] =
      isSensitiveKey(key) && item !== undefined && item !== null ? REDACTED : redactDeep(item, depth + 1);
  }
  return out as T;
}

/** A copy of the error, of the same class (so the log shows its type), with scrubbed text. */
function redactError(error: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  for (const [key, item] of Object.entries(error)) {
    (copy as unknown as Record<string, unknown>)[key] = isSensitiveKey(key)
      ? REDACTED
      : redactDeep(item, depth + 1);
  }
  Object.defineProperty(copy, 'message', { value: scrubText(error.message), enumerable: false });
  if (error.stack) Object.defineProperty(copy, 'stack', { value: scrubText(error.stack), enumerable: false });
  if (error.cause !== undefined) {
    Object.defineProperty(copy, 'cause', { value: redactDeep(error.cause, depth + 1), enumerable: false });
  }
  return copy;
}
