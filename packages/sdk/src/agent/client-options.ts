import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { DpopProver } from '../dpop/prover.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import type { AuthorizationRequest } from './authorization-request.ts';
import type { AppAuthMethod, AssertionAudience, TokenEndpointAuthMethod } from './client-authentication.ts';
import type { LoopbackListenerOptions } from './loopback.ts';
import type { TokenTypeHint } from './revocation.ts';
import type { DelegatedTokenSet, TokenStore } from './token-store.ts';

/** The options, requests and results of `AgentAuthClient`'s and `AppAuthClient`'s methods. */

/** Options of `AgentAuthClient`. */
export interface AgentAuthClientOptions extends HttpOptions {
  /** The authorization server's issuer identifier; every endpoint is discovered from its metadata (RFC 8414). */
  issuer: string;
  /** The agent's client id (its agent id, e.g. `agt_...`). */
  clientId: string;
  /** The agent's secret, for `client_secret_basic` (default) or `client_secret_post`. */
  clientSecret?: string;
  /** A private key for `private_key_jwt` (RFC 7523), as a node `KeyObject` or a private JWK. */
  privateKey?: KeyObject | JWK;
  /** JWS algorithm for `private_key_jwt`; inferred from the key when absent. */
  privateKeyAlg?: string;
  /** `kid` of the private key, as registered with the AS. */
  privateKeyKid?: string;
  /** `aud` of client assertions. Default `issuer` (RFC 7523bis); `token_endpoint` for older servers (OIDC Core §9). */
  assertionAudience?: AssertionAudience;
  /** Default: `private_key_jwt` when `privateKey` is given, else `client_secret_basic`. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Renew a cached token this many seconds before it expires (at most half its lifetime). Default 60. */
  renewBeforeExpirySeconds?: number;
  /** Current time in milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** Waits `ms` milliseconds between CIBA polls (`requestApproval`). Default: a timer. Tests inject their scheduler. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Whether `requestApproval`'s `tokens` wait on the server's approval events stream (Server-Sent Events, when its
   * metadata offers `approval_events_endpoint`) and ask the token endpoint once decided, rather than polling. Polling
   * takes over whenever the stream fails. Default true.
   */
  approvalEvents?: boolean;
  /**
   * The OAuth application through which a user authorizes this agent (on-behalf-of): it makes the authorization
   * request with `requested_actor` = the agent, and redeems and refreshes the code's tokens (an `AppAuthClient`
   * with this client's issuer, clock, HTTP and store options). Needed by `authorizationUrl`, `exchangeCode`,
   * `getDelegatedToken`, `refresh` and `startLoopbackAuthorization`.
   */
  app?: AppClientOptions;
  /** Where delegated token sets are kept. Default: a {@link MemoryTokenStore}. */
  tokenStore?: TokenStore;
  /** How long an authorization request waits for its response, in seconds. Default 600. */
  authorizationTtlSeconds?: number;
  /** Allowed clock skew for ID tokens, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /**
   * Makes every token request a DPoP request (RFC 9449 §5) with this key, so that tokens come bound to it
   * (`token_type: DPoP`); the prover also keeps the server's nonces. Default: none (Bearer tokens).
   */
  dpop?: DpopProver;
  /**
   * Keep the DPoP private key (as a JWK) in the token store, beside the tokens bound to it, so that a process
   * started again can present and refresh them (`DpopProver.fromStoredKey`). Default false: the key never leaves
   * memory, and bound tokens are usable only while the prover lives. Opt in only for a store as protected as a key.
   */
  storeDpopKey?: boolean;
}

/** The application (an OAuth client of kind `app`) that carries a user's authorization to the agent. */
export interface AppClientOptions {
  clientId: string;
  /** Its registered redirect URI; a loopback `http://127.0.0.1/callback` may be used on any port (RFC 8252 §7.3). */
  redirectUri?: string;
  /** For a confidential application (`client_secret_basic` unless `tokenEndpointAuthMethod` says otherwise). */
  clientSecret?: string;
  /** For a confidential application using `private_key_jwt`. */
  privateKey?: KeyObject | JWK;
  privateKeyAlg?: string;
  privateKeyKid?: string;
  /** Default: `none` (a public client, PKCE only) unless a secret or key is given. */
  tokenEndpointAuthMethod?: AppAuthMethod;
}

/** Options of `AppAuthClient`: the application, its authorization server, and where its tokens are kept. */
export interface AppAuthClientOptions extends AppClientOptions, HttpOptions {
  /** The authorization server's issuer identifier; every endpoint is discovered from its metadata (RFC 8414). */
  issuer: string;
  /** `aud` of client assertions for `private_key_jwt`. Default `issuer` (RFC 7523bis). */
  assertionAudience?: AssertionAudience;
  /** Where token sets are kept. Default: a `MemoryTokenStore`. */
  tokenStore?: TokenStore;
  /** How long an authorization request waits for its response, in seconds. Default 600. */
  authorizationTtlSeconds?: number;
  /** Allowed clock skew for ID tokens, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Makes every token request a DPoP request (RFC 9449 §5) with this key (see `AgentAuthClientOptions.dpop`). */
  dpop?: DpopProver;
  /** Keep the DPoP private key in the token store (see `AgentAuthClientOptions.storeDpopKey`). Default false. */
  storeDpopKey?: boolean;
  /** Refresh a stored access token this many seconds before it expires (at most half its lifetime). Default 60. */
  renewBeforeExpirySeconds?: number;
  /** Current time in milliseconds. Default `Date.now`. */
  clock?: () => number;
}

/** An authorization request ready to be opened in the user's browser. */
export interface AuthorizationUrl {
  url: string;
  /** Its `state`, the key of the pending request. */
  state: string;
  redirectUri: string;
}

/** Options of `AgentAuthClient.startLoopbackAuthorization`. */
export interface LoopbackAuthorizationRequest extends Omit<AuthorizationRequest, 'redirectUri'>, Pick<LoopbackListenerOptions<unknown>, 'host' | 'port' | 'path' | 'timeoutMs'> {
  /** The actor token for an on-behalf-of redemption; `AgentAuthClient`'s default: its own token for the request's resources. */
  actorToken?: string;
  /** Told about responses that matched no pending request and were ignored. */
  onIgnoredCallback?: (err: unknown) => void;
}

/** A sign-in in progress through a loopback redirect. */
export interface LoopbackAuthorization {
  /** The URL to open in the browser. */
  url: string;
  redirectUri: string;
  /** The user's tokens once the browser came back and the code was redeemed; rejects with a coded error otherwise. */
  tokens: Promise<DelegatedTokenSet>;
  /** Stops waiting. */
  close(): Promise<void>;
}

/** Which client a token belongs to, for `AgentAuthClient.revoke`. */
export interface RevokeOptions {
  /** `agent` (default) for the agent's own and exchanged tokens, `app` for tokens issued to the application. */
  client?: 'agent' | 'app';
  tokenTypeHint?: TokenTypeHint;
}

/** Parameters of `AgentAuthClient.getAgentToken`. */
export interface AgentTokenRequest {
  /** Scopes to request (RFC 6749 §3.3), as a space-separated string or an array. */
  scope?: string | readonly string[];
  /** Resource indicators (RFC 8707 §2): the token's audience. Several give a token for all of them. */
  resource?: string | readonly string[];
}

/** An access token the agent holds. */
export interface AgentToken {
  accessToken: string;
  tokenType: string;
  /** Seconds since the epoch, when the server said. */
  expiresAt?: number;
  /** The scopes granted, as the server stated them (else those requested). */
  scope: string[];
}
