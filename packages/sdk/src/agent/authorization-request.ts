import { createHash } from 'node:crypto';
import { secretsEqual } from './pkce.ts';

/** Parameters of an authorization request (RFC 6749 §4.1.1) made by the agent's application. */
export interface AuthorizationRequest {
  /** Scopes (RFC 6749 §3.3); add `openid` for an ID token naming the user, `offline_access` for a refresh token. */
  scope?: string | readonly string[];
  /** Resource indicators (RFC 8707 §2): sent in the authorization and the token request (MCP-C-04). */
  resource?: string | readonly string[];
  /**
   * The agent the user is asked to authorize (draft-oauth-ai-agents-on-behalf-of-user-02 `requested_actor`).
   * `AppAuthClient`: none unless given. `AgentAuthClient`: default its own agent id; `null` makes a plain
   * authorization-code request without an agent.
   */
  requestedActor?: string | null;
  /** Default: the application's `redirectUri`. Must be registered (for loopback `http` URIs, any port: RFC 8252 §7.3). */
  redirectUri?: string;
  /** OpenID Connect Core §3.1.2.1 `prompt`. */
  prompt?: 'none' | 'login' | 'consent';
}

/** What the client remembers between the redirect and the callback (MCP-C-07: issuer, PKCE verifier and state). */
export interface PendingAuthorization {
  /** The issuer the request goes to; the response's `iss` must be exactly this (RFC 9207 §2.4). */
  issuer: string;
  /** The AS's `authorization_response_iss_parameter_supported` when the request was made. */
  issParameterSupported: boolean;
  clientId: string;
  redirectUri: string;
  state: string;
  codeVerifier: string;
  /** Sent when `openid` was requested; the ID token must carry it (OpenID Connect Core §3.1.2.1). */
  nonce?: string;
  scope: string[];
  resource: string[];
  requestedActor?: string;
  /** Milliseconds since the epoch after which the response is no longer accepted. */
  expiresAtMs: number;
}

/** The `/authorize` URL of a pending authorization, with its PKCE challenge (RFC 7636 §4.3). */
export function buildAuthorizationUrl(endpoint: string, pending: PendingAuthorization, codeChallenge: string, prompt?: string): string {
  const url = new URL(endpoint);
  const params = url.searchParams;
  params.set('response_type', 'code');
  params.set('client_id', pending.clientId);
  params.set('redirect_uri', pending.redirectUri);
  if (pending.scope.length > 0) params.set('scope', pending.scope.join(' '));
  for (const resource of pending.resource) params.append('resource', resource);
  params.set('state', pending.state);
  params.set('code_challenge', codeChallenge);
  params.set('code_challenge_method', 'S256');
  if (pending.nonce !== undefined) params.set('nonce', pending.nonce);
  if (pending.requestedActor !== undefined) params.set('requested_actor', pending.requestedActor);
  if (prompt !== undefined) params.set('prompt', prompt);
  return url.href;
}

/**
 * Pending authorization requests, keyed by a hash of their `state` and taken out once (a `state` is single use,
 * RFC 9700 §4.7.1). The lookup goes by SHA-256 and the final comparison is constant-time, so response timing says
 * nothing about how much of a guessed `state` was right. Expired entries are dropped; at most `maxEntries` are kept.
 */
export class PendingAuthorizations {
  readonly #entries = new Map<string, PendingAuthorization>();
  readonly #clock: () => number;
  readonly #maxEntries: number;

  constructor(clock: () => number, maxEntries = 100) {
    this.#clock = clock;
    this.#maxEntries = maxEntries;
  }

  add(pending: PendingAuthorization): void {
    this.#sweep();
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(stateKey(pending.state), pending);
  }

  /** The unexpired pending authorization of `state`, removed; undefined when there is none. */
  take(state: string): PendingAuthorization | undefined {
    const key = stateKey(state);
    const pending = this.#entries.get(key);
    if (pending === undefined || !secretsEqual(pending.state, state)) return undefined;
    this.#entries.delete(key);
    return pending.expiresAtMs > this.#clock() ? pending : undefined;
  }

  /** Forgets a pending authorization (e.g. when its loopback listener gave up). */
  discard(state: string): void {
    this.#entries.delete(stateKey(state));
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [key, pending] of this.#entries) if (pending.expiresAtMs <= now) this.#entries.delete(key);
  }
}

function stateKey(state: string): string {
  return createHash('sha256').update(state).digest('base64url');
}
