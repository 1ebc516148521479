import type { AgentToken } from './client-options.ts';
import type { TokenResponse } from './token-request.ts';

interface CacheEntry {
  token: AgentToken;
  renewAtMs: number;
}

/** An agent token from a token response: the scopes as the server stated them, else those requested. */
export function agentTokenFrom(response: TokenResponse, requestedScopes: readonly string[]): AgentToken {
  const token: AgentToken = {
    accessToken: response.accessToken,
    tokenType: response.tokenType,
    scope: response.scope === undefined ? [...requestedScopes] : response.scope.split(' ').filter((s) => s !== ''),
  };
  if (response.expiresAt !== undefined) token.expiresAt = response.expiresAt;
  return token;
}

/**
 * The agent's own tokens (`client_credentials`, RFC 6749 §4.4, with RFC 8707 resources), cached per (scopes,
 * resources): served while fresh, renewed `renewBeforeMs` before expiry (at most half the lifetime), concurrent
 * callers for the same key sharing one request (single-flight).
 */
export class AgentTokenCache {
  readonly #request: (form: URLSearchParams) => Promise<TokenResponse>;
  readonly #clock: () => number;
  readonly #renewBeforeMs: number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<AgentToken>>();

  constructor(request: (form: URLSearchParams) => Promise<TokenResponse>, clock: () => number, renewBeforeMs: number) {
    this.#request = request;
    this.#clock = clock;
    this.#renewBeforeMs = renewBeforeMs;
  }

  /** The token for these (normalized) scopes and resources. */
  get(scopes: string[], resources: string[]): Promise<AgentToken> {
    const key = JSON.stringify([scopes, resources]);
    const cached = this.#cache.get(key);
    if (cached !== undefined && this.#clock() < cached.renewAtMs) return Promise.resolve(cached.token);
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#fetch(key, scopes, resources).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  /** Drops every cached token, or those of one (scopes, resources). */
  invalidate(scopes?: string[], resources?: string[]): void {
    if (scopes === undefined || resources === undefined) this.#cache.clear();
    else this.#cache.delete(JSON.stringify([scopes, resources]));
  }

  /** Drops a token wherever it is cached (it was revoked). */
  drop(accessToken: string): void {
    for (const [key, entry] of this.#cache) if (entry.token.accessToken === accessToken) this.#cache.delete(key);
  }

  async #fetch(key: string, scopes: string[], resources: string[]): Promise<AgentToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    for (const resource of resources) form.append('resource', resource);
    const token = agentTokenFrom(await this.#request(form), scopes);
    if (token.expiresAt !== undefined) {
      const now = this.#clock();
      const lifetimeMs = token.expiresAt * 1000 - now;
      this.#cache.set(key, { token, renewAtMs: now + lifetimeMs - Math.min(this.#renewBeforeMs, lifetimeMs / 2) });
    }
    return token;
  }
}
