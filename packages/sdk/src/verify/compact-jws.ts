import { TokenMalformed } from '../errors.ts';
import { isJsonObject } from '../lib/fetch-json.ts';

/** A compact JWS split into its parts, before any check of its signature or claims. */
export interface ParsedJws {
  /** The protected header. Shared between tokens with the same header: frozen, never to be modified. */
  header: Readonly<Record<string, unknown>>;
  payload: Record<string, unknown>;
  /** ASCII bytes of `BASE64URL(header) || '.' || BASE64URL(payload)`, what the signature covers (RFC 7515 §5.2). */
  signingInput: Buffer;
  signature: Buffer;
}

// Three non-empty base64url parts. Checked up front because Buffer's base64url decoder skips characters outside the
// alphabet and also accepts '+' and '/': a token with stray characters is malformed, not silently another token.
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

// Tokens from one issuer key share a byte-identical header, so its decoded form is kept (decoding and parsing it is
// a fifth of the parse cost). Bounded, and cleared when full, so that made-up headers cannot grow it.
const headerCache = new Map<string, Readonly<Record<string, unknown>>>();
const headerCacheMax = 64;

/**
 * Splits and decodes a compact-serialized JWS (RFC 7515 §7.1). Throws {@link TokenMalformed} unless the token has
 * exactly three non-empty base64url parts, the first two being JSON objects. JWE (five parts) is not accepted.
 */
export function parseCompactJws(token: string): ParsedJws {
  if (!compactJws.test(token)) throw new TokenMalformed('not a compact JWS of three base64url parts');
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const headerPart = token.slice(0, first);
  let header = headerCache.get(headerPart);
  if (header === undefined) {
    header = Object.freeze(decodeJsonObject(headerPart, 'header'));
    if (headerCache.size >= headerCacheMax) headerCache.clear();
    headerCache.set(headerPart, header);
  }
  return {
    header,
    payload: decodeJsonObject(token.slice(first + 1, second), 'payload'),
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    signature: Buffer.from(token.slice(second + 1), 'base64url'),
  };
}

function decodeJsonObject(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new TokenMalformed(`the JWS ${what} is not JSON`);
  }
  if (!isJsonObject(value)) throw new TokenMalformed(`the JWS ${what} is not a JSON object`);
  return value;
}
