import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { isJwsAlgorithm, keyTypeFor, signatureCheckFor, signatureMakerFor } from './algorithms.ts';
import type { JwsAlgorithm, SignatureMaker, SigningAlgorithm } from './algorithms.ts';
import { signJws } from './encode-compact-jws.ts';
import { jwkThumbprint } from './jwk-thumbprint.ts';
import { parseCompactJws } from './parse-compact-jws.ts';
import { normalizeTyp } from './verify-compact-jws.ts';

/** RFC 9449 §4.2: the `typ` of a DPoP proof. */
export const DPOP_PROOF_TYP = 'dpop+jwt';

/** Why a DPoP proof was refused; `use_nonce` asks the client to retry with the server's nonce (RFC 9449 §8). */
export type DpopProofFailure =
  | 'multiple_proofs'
  | 'malformed'
  | 'missing_claim'
  | 'typ'
  | 'alg'
  | 'jwk'
  | 'private_key'
  | 'signature'
  | 'htm'
  | 'htu'
  | 'iat'
  | 'use_nonce'
  | 'ath'
  | 'key_mismatch';

export type DpopProofResult =
  | { ok: true; jkt: string; jti: string; iat: number; htu: string; publicJwk: JsonWebKey }
  | { ok: false; failure: DpopProofFailure; reason: string };

/** What a proof must match: the request it came with, the time, and optionally a nonce, an access token and a key. */
export interface DpopProofExpectations {
  /** The request method, e.g. `POST`. */
  method: string;
  /** The request URL as this server sees it (absolute); its query and fragment are ignored. */
  url: string;
  /** The algorithms accepted; `none` and HS* cannot be named. */
  algorithms: ReadonlySet<JwsAlgorithm>;
  nowSeconds: number;
  /** How old a proof may be (from its `iat`), in seconds. */
  maxAgeSeconds: number;
  /** How far in the future `iat` may be, for clock differences, in seconds. */
  clockSkewSeconds: number;
  /** When set, the proof's `nonce` must satisfy it (RFC 9449 §8: once a nonce was provided, a proof without one is refused). */
  acceptsNonce?: (nonce: unknown) => boolean;
  /** At a resource: the access token presented with the proof; `ath` must be its hash (RFC 9449 §4.3 check 12). */
  accessToken?: string;
  /** The thumbprint the proof key must have: the token's `cnf.jkt`, or the authorization request's `dpop_jkt`. */
  jkt?: string;
}

/** Longest `jti` accepted; replay caches store a hash of it anyway (RFC 9449 §11.1). */
const MAX_JTI_LENGTH = 256;
/** Members that only a private or secret key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** RFC 9449 §4.2: `ath` = base64url(SHA-256(ASCII(access token))). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * The `htu` form of a URL (RFC 9449 §4.2, §4.3 check 9): without query and fragment, normalised by RFC 3986 §6.2.2
 * and §6.2.3 (scheme and host in lower case, default port dropped, dot segments removed, an empty path as `/`,
 * percent-encoding case), which the WHATWG URL parser does. Undefined when it is not an absolute http(s) URL.
 */
export function normalizeHtu(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  parsed.search = '';
  parsed.hash = '';
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

const refuse = (failure: DpopProofFailure, reason: string): DpopProofResult => ({ ok: false, failure, reason });

/**
 * Verifies a DPoP proof (RFC 9449 §4.3), the value of the request's `DPoP` header, with every check of §4.3: one
 * proof only (repeated headers arrive joined by a comma); a compact JWS; `typ` `dpop+jwt`; an allowed asymmetric
 * `alg`; a public `jwk` of the algorithm's key type, with no private member; the signature under that key; `jti`,
 * `htm`, `htu` and `iat` present; `htm` and `htu` (normalised, without query) those of the request; `iat` neither
 * older than `maxAgeSeconds` nor later than `clockSkewSeconds` ahead; the nonce when one is required; and at a
 * resource `ath` and the key thumbprint. Returns the key's thumbprint (`jkt`) and what a replay cache needs (`jti`,
 * `iat`, `htu`); the replay check itself is the caller's, against a store shared by its instances.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
export function verifyDpopProof(proof: string, expect: DpopProofExpectations): DpopProofResult {
  if (/[,\s]/.test(proof.trim())) return refuse('multiple_proofs', 'more than one DPoP proof was sent');
  const jws = parseCompactJws(proof.trim());
  if (!jws.ok) return refuse('malformed', `the DPoP proof is not a JWT: ${jws.reason}`);
  const { header, payload } = jws;
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== DPOP_PROOF_TYP) return refuse('typ', 'the DPoP proof typ must be dpop+jwt');
  const alg = header.alg;
  if (!isJwsAlgorithm(alg) || !expect.algorithms.has(alg)) return refuse('alg', `the DPoP proof algorithm ${JSON.stringify(alg)} is not allowed`);
  if (header.crit !== undefined) return refuse('malformed', 'the DPoP proof has critical header parameters');
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return refuse('jwk', 'the DPoP proof has no jwk header');
  const members = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => members[member] !== undefined)) return refuse('private_key', 'the DPoP proof jwk contains private key material');
  if (members.kty !== keyTypeFor(alg)) return refuse('jwk', `the DPoP proof jwk is not a key for ${alg}`);
  const jkt = jwkThumbprint(members);
  const check = jkt === undefined ? undefined : publicKeyCheck(alg, members);
  if (jkt === undefined || check === undefined) return refuse('jwk', `the DPoP proof jwk is not a usable public key for ${alg}`);
  if (!check(jws.signingInput, jws.signature)) return refuse('signature', 'the DPoP proof signature is invalid');

  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return refuse('missing_claim', 'the DPoP proof jti is missing or invalid');
  if (typeof htm !== 'string') return refuse('missing_claim', 'the DPoP proof htm is missing');
  if (typeof htu !== 'string') return refuse('missing_claim', 'the DPoP proof htu is missing');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return refuse('missing_claim', 'the DPoP proof iat is missing');
  if (htm !== expect.method) return refuse('htm', `the DPoP proof is for method ${htm}, not ${expect.method}`);
  const requestHtu = normalizeHtu(expect.url);
  if (requestHtu === undefined) throw new TypeError('expectations.url must be an absolute http(s) URL');
  if (normalizeHtu(htu) !== requestHtu) return refuse('htu', 'the DPoP proof is for another URL');
  if (iat > expect.nowSeconds + expect.clockSkewSeconds) return refuse('iat', 'the DPoP proof was issued in the future');
  if (iat < expect.nowSeconds - expect.maxAgeSeconds) return refuse('iat', 'the DPoP proof is too old');
  if (expect.acceptsNonce !== undefined && !expect.acceptsNonce(payload.nonce)) {
    return refuse('use_nonce', payload.nonce === undefined ? 'the DPoP proof needs the server nonce' : 'the DPoP proof nonce is stale or invalid');
  }
  if (expect.accessToken !== undefined && payload.ath !== accessTokenHash(expect.accessToken)) {
    return refuse('ath', 'the DPoP proof ath does not match the access token');
  }
  if (expect.jkt !== undefined && expect.jkt !== jkt) return refuse('key_mismatch', 'the DPoP proof key is not the key the token is bound to');
  return { ok: true, jkt, jti, iat, htu: requestHtu, publicJwk: members as JsonWebKey };
}

function publicKeyCheck(alg: JwsAlgorithm, jwk: Record<string, unknown>) {
  try {
    return signatureCheckFor(alg, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
  } catch {
    return undefined;
  }
}

/** A client's DPoP key, ready to sign proofs: its algorithm, public JWK and thumbprint, and a bound signer. */
export interface DpopKey {
  readonly alg: SigningAlgorithm;
  readonly publicJwk: Readonly<JsonWebKey>;
  readonly jkt: string;
  readonly sign: SignatureMaker;
}

/**
 * A {@link DpopKey} from a private key (ES256, EdDSA or RS256). The public JWK carries only the members RFC 7638
 * names, so that the proof header never carries more than the public key.
 */
export function dpopKeyFrom(privateKey: KeyObject, alg: SigningAlgorithm): DpopKey {
  const sign = signatureMakerFor(alg, privateKey);
  const full = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>;
  const publicJwk = Object.fromEntries(Object.entries(full).filter(([member]) => ['kty', 'crv', 'x', 'y', 'n', 'e'].includes(member))) as JsonWebKey;
  const jkt = jwkThumbprint(publicJwk as Record<string, unknown>);
  if (jkt === undefined) throw new TypeError('the DPoP key has no RFC 7638 thumbprint');
  return Object.freeze({ alg, publicJwk: Object.freeze(publicJwk), jkt, sign });
}

/** The request a proof is made for. */
export interface DpopProofRequest {
  method: string;
  url: string;
  /** The server's latest `DPoP-Nonce`, when it gave one. */
  nonce?: string;
  /** The access token sent with the proof (at a resource, RFC 9449 §7). */
  accessToken?: string;
}

/**
 * Signs a DPoP proof (RFC 9449 §4.2) for one request: a fresh `jti`, `htm`, `htu` (without query and fragment),
 * `iat`, and `nonce` and `ath` when given.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export function createDpopProof(key: DpopKey, request: DpopProofRequest, nowSeconds: number): string {
  const htu = normalizeHtu(request.url);
  if (htu === undefined) throw new TypeError('the DPoP proof URL must be an absolute http(s) URL');
  const payload: Record<string, unknown> = { jti: randomUUID(), htm: request.method.toUpperCase(), htu, iat: Math.floor(nowSeconds) };
  if (request.nonce !== undefined) payload.nonce = request.nonce;
  if (request.accessToken !== undefined) payload.ath = accessTokenHash(request.accessToken);
  const header = Buffer.from(JSON.stringify({ typ: DPOP_PROOF_TYP, alg: key.alg, jwk: key.publicJwk })).toString('base64url');
  return signJws(header, payload, key.sign);
}
