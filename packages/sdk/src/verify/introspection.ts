import { createHash } from 'node:crypto';
import type { AccessTokenClaims } from '@mandate/protocol';
import { TokenInactive } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { introspectionAuthorization, requestIntrospection } from './introspect.ts';
import type { IntrospectionCredentials } from './introspect.ts';

export type { IntrospectionCredentials } from './introspect.ts';

/** Introspection mode: every token is also checked with the authorization server (RFC 7662), for revocation. */
export interface IntrospectionOptions {
  credentials: IntrospectionCredentials;
  /**
   * Longest time an answer is reused, in seconds. An answer is never kept past the token's `exp`. Default 30: the
   * window in which a revoked token can still be accepted. 0 asks the server on every request.
   */
  cacheTtlSeconds?: number;
  /** Most answers held at once; the oldest is dropped first. Default 10,000. */
  cacheMaxEntries?: number;
}

/** What the authorization server says of a token now: whether it is active, and the scopes it may still carry. */
export interface IntrospectedStatus {
  active: boolean;
  /** The `scope` the answer reported (RFC 7662 §2.2), when it did: Mandate reports what the token may carry now. */
  scopes?: string[];
}

interface CachedAnswer extends IntrospectedStatus {
  expiresAtMs: number;
}

/**
 * Asks the introspection endpoint (RFC 7662 §2) whether a token is still active, with a cache keyed by the SHA-256
 * of the whole token (never a prefix: two tokens sharing a prefix must never share an answer) and concurrent
 * questions about the same token sharing one request.
 */
export class Introspector {
  readonly #endpoint: () => Promise<string>;
  readonly #authorization: string;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #http: HttpOptions;
  readonly #clock: () => number;
  readonly #issuer: string;
  readonly #cache = new Map<string, CachedAnswer>();
  readonly #inflight = new Map<string, Promise<IntrospectedStatus>>();

  constructor(endpoint: () => Promise<string>, options: IntrospectionOptions, init: { http: HttpOptions; clock: () => number; issuer: string }) {
    this.#authorization = introspectionAuthorization(options.credentials);
    const ttl = options.cacheTtlSeconds ?? 30;
    const maxEntries = options.cacheMaxEntries ?? 10_000;
    if (!Number.isFinite(ttl) || ttl < 0) throw new TypeError('introspection.cacheTtlSeconds must be a number ≥ 0');
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('introspection.cacheMaxEntries must be a positive integer');
    this.#endpoint = endpoint;
    this.#ttlMs = ttl * 1000;
    this.#maxEntries = maxEntries;
    this.#http = init.http;
    this.#clock = init.clock;
    this.#issuer = init.issuer;
  }

  /**
   * Resolves with the scopes the server says the token may still carry (absent when it did not say) when the token
   * is active; throws {@link TokenInactive}, or `ERR_INTROSPECTION_FAILED` / `ERR_INTROSPECTION_UNAUTHORIZED` when
   * the question could not be answered.
   */
  async assertActive(token: string, claims: AccessTokenClaims): Promise<{ scopes?: string[] }> {
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.#clock();
    const cached = this.#cache.get(key);
    let status: IntrospectedStatus;
    if (cached !== undefined && cached.expiresAtMs > now) {
      status = cached;
    } else {
      if (cached !== undefined) this.#cache.delete(key);
      let pending = this.#inflight.get(key);
      if (pending === undefined) {
        pending = this.#introspect(token, claims).finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, pending);
      }
      status = await pending;
      this.#remember(key, status, claims.exp * 1000);
    }
    if (!status.active) throw new TokenInactive();
    return status.scopes === undefined ? {} : { scopes: status.scopes };
  }

  #remember(key: string, status: IntrospectedStatus, tokenExpiresAtMs: number): void {
    const expiresAtMs = Math.min(this.#clock() + this.#ttlMs, tokenExpiresAtMs);
    if (expiresAtMs <= this.#clock()) return;
    this.#cache.delete(key);
    this.#cache.set(key, { ...status, expiresAtMs });
    // A Map iterates in insertion order, so the first key is the oldest entry.
    if (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value as string);
  }

  async #introspect(token: string, claims: AccessTokenClaims): Promise<IntrospectedStatus> {
    const body = await requestIntrospection(await this.#endpoint(), token, this.#authorization, this.#http);
    if (!body.active) return { active: false };
    // An active answer must describe this very token from this issuer; anything else is treated as inactive.
    if (body.iss !== undefined && body.iss !== this.#issuer) return { active: false };
    if (body.jti !== undefined && body.jti !== claims.jti) return { active: false };
    return typeof body.scope === 'string' ? { active: true, scopes: body.scope.split(' ').filter(Boolean) } : { active: true };
  }
}

