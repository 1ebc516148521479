import { TokenMalformed } from '../errors.ts';
import { isJsonObject } from '../lib/fetch-json.ts';

/** A compact JWS split into its parts, before any check of its signature or claims. */
export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** ASCII bytes of `BASE64URL(header) || '.' || BASE64URL(payload)`, what the signature covers (RFC 7515 §5.2). */
  signingInput: Buffer;
  signature: Buffer;
}

// Buffer's base64url decoder skips characters outside the alphabet, so the alphabet is checked first: a token with
// stray characters is malformed, not silently equal to another token.
const base64url = /^[A-Za-z0-9_-]+$/;

/**
 * Splits and decodes a compact-serialized JWS (RFC 7515 §7.1). Throws {@link TokenMalformed} unless the token has
 * exactly three non-empty base64url parts, the first two being JSON objects. JWE (five parts) is not accepted.
 */
export function parseCompactJws(token: string): ParsedJws {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) throw new TokenMalformed('not a compact JWS');
  const headerPart = token.slice(0, first);
  const payloadPart = token.slice(first + 1, second);
  const signaturePart = token.slice(second + 1);
  if (!base64url.test(headerPart) || !base64url.test(payloadPart) || !base64url.test(signaturePart)) {
    throw new TokenMalformed('a JWS part is not base64url');
  }
  return {
    header: decodeJsonObject(headerPart, 'header'),
    payload: decodeJsonObject(payloadPart, 'payload'),
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    signature: Buffer.from(signaturePart, 'base64url'),
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
