import { createPrivateKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createDpopProof, type DpopKey, dpopKeyFrom, type SigningAlgorithm } from '@mandate/protocol';

/** Options of a {@link DpopProver}. */
export interface DpopProverOptions {
  /** Current time in milliseconds since the epoch, for `iat`. Default `Date.now`; tests inject their own. */
  clock?: () => number;
}

/**
 * A DPoP key as a token store keeps it next to the tokens bound to it (`DelegatedTokenSet.dpopKey`), so that an
 * agent started again can still present them: the private key as a JWK (RFC 7517) and its algorithm. As secret as
 * the refresh token beside it.
 */
export interface StoredDpopKey {
  alg: SigningAlgorithm;
  privateJwk: JsonWebKey;
}

/** `WWW-Authenticate: DPoP error="use_dpop_nonce"` (RFC 9449 §9), found without a full challenge parser. */
const useDpopNonce = /(?:^|[\s,])DPoP\b[^]*?error="use_dpop_nonce"/i;

/**
 * A client's DPoP key and what it has learnt from servers: it signs one proof per request (RFC 9449 §4.2) and keeps
 * the latest `DPoP-Nonce` of each origin (§8, §9), so that the next proof to that server carries it. Give one to
 * `AgentAuthClient` or `AppAuthClient` (`dpop` option) and every token request is a DPoP request; use
 * {@link DpopProver.fetch} (or {@link createDpopFetch}) to call a resource with a DPoP-bound token.
 *
 * @example
 * const dpop = DpopProver.generate();
 * const agent = new AgentAuthClient({ issuer, clientId, clientSecret, dpop });
 * const { accessToken } = await agent.getToken({ resource });          // token_type DPoP, cnf.jkt = dpop.jkt
 * const response = await dpop.fetch('https://api.example.com/files', accessToken);
 * @see https://www.rfc-editor.org/rfc/rfc9449
 */
export class DpopProver {
  readonly key: DpopKey;
  readonly #clock: () => number;
  readonly #nonces = new Map<string, string>();
  /** The private key, when this prover was made from one (not from a bare DpopKey): what {@link exportKey} stores. */
  #privateKey: KeyObject | undefined;

  constructor(key: DpopKey, options: DpopProverOptions = {}) {
    if (typeof key?.sign !== 'function' || typeof key.jkt !== 'string') throw new TypeError('key must be a DpopKey (see DpopProver.fromPrivateKey)');
    this.key = key;
    this.#clock = options.clock ?? Date.now;
  }

  /** A prover over a fresh key pair that never leaves this process: ES256 by default, or EdDSA. */
  static generate(alg: 'ES256' | 'EdDSA' = 'ES256', options: DpopProverOptions = {}): DpopProver {
    const { privateKey } = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return DpopProver.fromPrivateKey(privateKey, alg, options);
  }

  /** A prover over an existing private key (kept, e.g., with a refresh token bound to it). */
  static fromPrivateKey(privateKey: KeyObject, alg: SigningAlgorithm = 'ES256', options: DpopProverOptions = {}): DpopProver {
    if (privateKey?.type !== 'private') throw new TypeError('privateKey must be a private KeyObject');
    const prover = new DpopProver(dpopKeyFrom(privateKey, alg), options);
    prover.#privateKey = privateKey;
    return prover;
  }

  /** The prover of a key a token store kept ({@link exportKey}): a restarted agent presents its bound tokens with it. */
  static fromStoredKey(stored: StoredDpopKey, options: DpopProverOptions = {}): DpopProver {
    if (typeof stored?.privateJwk !== 'object' || stored.privateJwk === null || typeof stored.alg !== 'string') throw new TypeError('stored must be a StoredDpopKey');
    return DpopProver.fromPrivateKey(createPrivateKey({ key: stored.privateJwk, format: 'jwk' }), stored.alg, options);
  }

  /** Whether {@link exportKey} can give the key (the prover was made from a private key, not a bare DpopKey). */
  get exportable(): boolean {
    return this.#privateKey !== undefined;
  }

  /** The key in the form token stores keep it; a TypeError for a prover made from a bare DpopKey (its key cannot be read). */
  exportKey(): StoredDpopKey {
    if (this.#privateKey === undefined) throw new TypeError('this prover was made from a DpopKey without its private key: it cannot be stored');
    return { alg: this.key.alg, privateJwk: this.#privateKey.export({ format: 'jwk' }) as JsonWebKey };
  }

  /** The RFC 7638 thumbprint of the public key: the `cnf.jkt` of tokens bound to it, and the `dpop_jkt` parameter. */
  get jkt(): string {
    return this.key.jkt;
  }

  /** A proof for one request; with `accessToken`, for a resource (`ath`, RFC 9449 §7). Carries the origin's latest nonce. */
  proof(method: string, url: string, accessToken?: string): string {
    const nonce = this.#nonces.get(new URL(url).origin);
    return createDpopProof(
      this.key,
      { method, url, ...(nonce === undefined ? {} : { nonce }), ...(accessToken === undefined ? {} : { accessToken }) },
      this.#clock() / 1000,
    );
  }

  /** Keeps the `DPoP-Nonce` a response from `url` carried (RFC 9449 §8: the client uses the latest). True when it is new. */
  rememberNonce(url: string, headers: Headers): boolean {
    const nonce = headers.get('dpop-nonce');
    if (nonce === null || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(nonce)) return false;
    const origin = new URL(url).origin;
    if (this.#nonces.get(origin) === nonce) return false;
    this.#nonces.set(origin, nonce);
    return true;
  }

  /**
   * Calls a resource with a DPoP-bound access token: `Authorization: DPoP <token>` and a fresh proof with `ath`
   * (RFC 9449 §7.1). When the resource asks for a nonce (401 `use_dpop_nonce` with a new `DPoP-Nonce`, §9), the call
   * is made once more with it. A request with a body that can be read only once (a stream) is not retried.
   */
  async fetch(url: string, accessToken: string, init: RequestInit = {}, fetchImpl: typeof fetch = fetch): Promise<Response> {
    const method = (init.method ?? 'GET').toUpperCase();
    const send = () => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `DPoP ${accessToken}`);
      headers.set('dpop', this.proof(method, url, accessToken));
      return fetchImpl(url, { ...init, method, headers });
    };
    const response = await send();
    const fresh = this.rememberNonce(url, response.headers);
    const retryable = init.body === undefined || init.body === null || typeof init.body === 'string' || init.body instanceof URLSearchParams;
    if (response.status === 401 && fresh && retryable && useDpopNonce.test(response.headers.get('www-authenticate') ?? '')) {
      await response.body?.cancel();
      return send();
    }
    return response;
  }
}

/** What a caller of {@link createDpopFetch} that keeps its own tokens (the MCP client provider) adds to it. */
export interface DpopFetchHooks {
  /** Whether a token is bound to the prover's key although this fetch did not receive it (one stored before a restart). */
  isBound?: (accessToken: string) => boolean;
  /** Told of every successful token response that passed through (bound or not). */
  onTokenResponse?: (token: { accessToken: string; tokenType: string }) => void;
}

/**
 * A `fetch` for HTTP clients that know only bearer tokens, such as the MCP SDK's transports and auth flow (their
 * `fetch` option): it adds DPoP where RFC 9449 wants it and passes everything else through unchanged.
 * - A token request (a form POST with `grant_type`) gets a proof (§5) and is sent once more when the authorization
 *   server answers `use_dpop_nonce` with a new nonce (§8), so the tokens come back bound to `prover`'s key.
 * - A request with `Authorization: Bearer <token>` of a token bound to that key is sent as a DPoP request instead
 *   ({@link DpopProver.fetch}, §7), with the resource's nonce retry: a token this fetch received with
 *   `token_type: DPoP` (opaque or not), or a JWT whose `cnf.jkt` is the prover's.
 */
export function createDpopFetch(prover: DpopProver, fetchImpl: typeof fetch = fetch, hooks: DpopFetchHooks = {}): typeof fetch {
  // Tokens the authorization server answered with `token_type: DPoP` through this fetch: bound, even when opaque.
  const boundTokens = new Set<string>();
  const remember = async (response: Response) => {
    if (response.status !== 200) return;
    const body = (await response.clone().json().catch(() => undefined)) as { access_token?: unknown; token_type?: unknown } | undefined;
    if (typeof body?.access_token !== 'string' || typeof body.token_type !== 'string') return;
    hooks.onTokenResponse?.({ accessToken: body.access_token, tokenType: body.token_type });
    if (body.token_type.toLowerCase() !== 'dpop') return;
    if (boundTokens.size >= 100) boundTokens.delete(boundTokens.values().next().value as string);
    boundTokens.add(body.access_token);
  };
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const request = new Request(input, init);
    const token = /^Bearer +(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    if (token !== undefined && (boundTokens.has(token) || hooks.isBound?.(token) === true || boundKey(token) === prover.jkt)) {
      const headers = new Headers(request.headers);
      headers.delete('authorization');
      const body = init.body ?? (request.body === null ? undefined : await request.text());
      return prover.fetch(request.url, token, { ...init, method: request.method, headers, ...(body === undefined ? {} : { body }) }, fetchImpl);
    }
    if (request.method !== 'POST' || !(request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) return fetchImpl(input, init);
    const body = await request.text();
    if (!new URLSearchParams(body).has('grant_type')) return fetchImpl(request.url, { ...init, method: 'POST', headers: request.headers, body });
    const send = () => {
      const headers = new Headers(request.headers);
      headers.set('dpop', prover.proof('POST', request.url));
      return fetchImpl(request.url, { ...init, method: 'POST', headers, body });
    };
    let response = await send();
    if (response.status === 400 && prover.rememberNonce(request.url, response.headers)) {
      const error = ((await response.clone().json().catch(() => undefined)) as { error?: unknown } | undefined)?.error;
      if (error === 'use_dpop_nonce') {
        await response.body?.cancel();
        response = await send();
      }
    } else prover.rememberNonce(request.url, response.headers);
    await remember(response);
    return response;
  }) as typeof fetch;
}

/** `cnf.jkt` of a JWT access token, read without verifying it (the client only chooses how to send its own token). */
export function boundKey(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { cnf?: { jkt?: unknown } };
    return typeof claims?.cnf?.jkt === 'string' ? claims.cnf.jkt : undefined;
  } catch {
    return undefined;
  }
}
