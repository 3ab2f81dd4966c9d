/** Microsoft's answer as a JSON object, or undefined when it is not one (an empty 401, a text 429). */
export function parseJson<T>(text: string): T | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
