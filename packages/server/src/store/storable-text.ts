/**
 * What a string must be for both stores to hold it as it is: no NUL character (PostgreSQL `text` and `jsonb` cannot
 * hold U+0000) and well-formed UTF-16 (a lone surrogate has no UTF-8 encoding: the driver would silently replace it,
 * and `jsonb` refuses its escape). The HTTP layer refuses such input before any handler runs
 * (`http/input-guard.ts`); the store refuses it again (`StoreInputError`), so no path can turn it into a 500.
 */

/** Why this string cannot be stored as it is, or null. */
export function unstorableText(value: string): string | null {
  if (value.includes('\u0000')) return 'a NUL character';
  if (!value.isWellFormed()) return 'an unpaired surrogate (not valid Unicode)';
  return null;
}

/** The first string (key or value) in a JSON-like value that cannot be stored, with its path (`keys.0.kid`). */
export function findUnstorable(value: unknown, path: readonly (string | number)[] = [], depth = 0): { path: string; problem: string } | null {
  if (typeof value === 'string') {
    const problem = unstorableText(value);
    return problem ? { path: path.join('.'), problem } : null;
  }
  if (typeof value !== 'object' || value === null || depth > 32) return null;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item, i) => [i, item]) : Object.entries(value);
  for (const [key, inner] of entries) {
    if (typeof key === 'string') {
      const problem = unstorableText(key);
      if (problem) return { path: [...path, key].join('.'), problem: `${problem} in a key` };
    }
    const found = findUnstorable(inner, [...path, key], depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * The string as it can be stored, for records that must be written whatever they carry (audit rows): NUL becomes
 * U+2400 (␀, the symbol for it, so the reader sees one was there) and a lone surrogate U+FFFD.
 */
export function storableText(value: string): string {
  return unstorableText(value) === null ? value : value.replaceAll('\u0000', '\u2400').toWellFormed();
}

/** Whether every key and string of a JSON-like value is storable as it is (no path kept: the audit row's fast check). */
function isStorableJson(value: unknown): boolean {
  if (typeof value === 'string') return unstorableText(value) === null;
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(isStorableJson);
  for (const key in value) {
    if (unstorableText(key) !== null || !isStorableJson((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** `storableText` over every key and string of a JSON-like value: the value itself when it needs no change. */
export function storableJson<T>(value: T): T {
  if (isStorableJson(value)) return value;
  return storableCopy(value);
}

function storableCopy<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map((item) => storableCopy(item)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [storableText(key), storableCopy(inner)])) as T;
  }
  return value;
}
