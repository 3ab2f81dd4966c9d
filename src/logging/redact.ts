/**
 * Field names whose values never reach a log line, at any depth: secrets, tokens, passwords,
 * credentials and authorization headers. Matching is on the key, so a new field named
 * `*_secret` or `*token*` is covered without touching this list.
 */
const SENSITIVE_KEY = /secret|token|password|passwd|authorization|cookie|credential|api[-_]?key/i;
export const REDACTED = '[Redacted]';

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

export function redactDeep<T>(value: T, depth = 0): T {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item, depth + 1)) as T;
  if (Buffer.isBuffer(value) || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] =
      isSensitiveKey(key) && item !== undefined && item !== null ? REDACTED : redactDeep(item, depth + 1);
  }
  return out as T;
}
