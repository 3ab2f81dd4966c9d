// PostgreSQL text and jsonb refuse NUL, and UTF-8 has no encoding for a lone UTF-16 surrogate:
// text that reaches the database from outside (Microsoft's messages, token claims) is made
// storable by replacing those characters with U+FFFD instead of failing the write.
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Whether the text has a character the database cannot store (NUL or a lone surrogate). */
export function hasUnstorableCharacter(text: string): boolean {
  UNSTORABLE.lastIndex = 0;
  return UNSTORABLE.test(text);
}

export function toStorableText(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}

/** A copy of a JSON value with every string (keys included) made storable. */
export function toStorableJson<T>(value: T): T {
  if (typeof value === 'string') return toStorableText(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => toStorableJson(item)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [toStorableText(k), toStorableJson(v as unknown)]),
    ) as T;
  }
  return value;
}
