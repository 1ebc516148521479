/** A compact JWS split into its parts and decoded, before any check of its signature or claims. */
export interface ParsedJws {
  ok: true;
  /** The protected header. Shared between tokens with the same header: frozen, never to be modified. */
  header: Readonly<Record<string, unknown>>;
  payload: Record<string, unknown>;
  /** ASCII bytes of `BASE64URL(header) || '.' || BASE64URL(payload)`, what the signature covers (RFC 7515 §5.2). */
  signingInput: Buffer;
  signature: Buffer;
}

/** Why a string is not a compact JWS we will look at. */
export interface MalformedJws {
  ok: false;
  failure: 'malformed';
  reason: string;
}

/**
 * Largest token parsed. Mandate's tokens are well under 2 KiB, and node refuses request headers over 16 KiB by
 * default, so a longer token cannot be a bearer token; the cap bounds the work a made-up token can cause.
 */
export const MAX_COMPACT_JWS_LENGTH = 16_384;

// Three non-empty base64url parts. Checked up front because Buffer's base64url decoder skips characters outside the
// alphabet and also accepts '+' and '/': a token with stray characters is malformed, not silently another token.
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

// Tokens from one issuer key share a byte-identical header, so its decoded form is kept (decoding and parsing it is
// a fifth of the parse cost). Bounded, and cleared when full, so that made-up headers cannot grow it.
const headerCache = new Map<string, Readonly<Record<string, unknown>>>();
const headerCacheMax = 64;

/**
 * Splits and decodes a compact-serialized JWS (RFC 7515 §7.1): exactly three non-empty base64url parts, the first
 * two JSON objects. JWE (five parts) and the JSON serializations are not accepted.
 */
export function parseCompactJws(token: string): ParsedJws | MalformedJws {
  if (token.length > MAX_COMPACT_JWS_LENGTH) return malformed(`longer than ${MAX_COMPACT_JWS_LENGTH} characters`);
  if (!compactJws.test(token)) return malformed('not a compact JWS of three base64url parts');
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const headerPart = token.slice(0, first);
  let header = headerCache.get(headerPart);
  if (header === undefined) {
    const decoded = decodeJsonObject(headerPart);
    if (typeof decoded === 'string') return malformed(`the JWS header ${decoded}`);
    header = Object.freeze(decoded);
    if (headerCache.size >= headerCacheMax) headerCache.clear();
    headerCache.set(headerPart, header);
  }
  const payload = decodeJsonObject(token.slice(first + 1, second));
  if (typeof payload === 'string') return malformed(`the JWS payload ${payload}`);
  return {
    ok: true,
    header,
    payload,
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    signature: Buffer.from(token.slice(second + 1), 'base64url'),
  };
}

const malformed = (reason: string): MalformedJws => ({ ok: false, failure: 'malformed', reason });

/** The decoded JSON object, or what is wrong with it. */
function decodeJsonObject(part: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return 'is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
  return value as Record<string, unknown>;
}
