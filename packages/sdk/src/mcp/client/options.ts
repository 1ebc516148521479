import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { AssertionAudience } from '../../agent/client-authentication.ts';
import type { IdentityProvider } from '../../agent/id-jag.ts';
import type { TokenStore } from '../../agent/token-store.ts';
import type { HttpOptions } from '../../lib/fetch-json.ts';
import type { ClientRegistrationStore } from './registration.ts';

/** A client registered by an operator (MCP "Preregistration"): its id and, for a confidential client, its credentials. */
export interface PreRegisteredClient {
  clientId: string;
  clientSecret?: string;
  /** For `private_key_jwt` (RFC 7523 §2.2). */
  privateKey?: KeyObject | JWK;
  privateKeyAlg?: string;
  privateKeyKid?: string;
  /** Default: as registered with the AS if it was told, else inferred (`private_key_jwt` with a key, a secret method with a secret, `none`). */
  tokenEndpointAuthMethod?: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /**
   * The issuer it was registered with. It is presented to no other authorization server (MCP-C-08). Without it,
   * the client is bound to the first authorization server it is used with.
   */
  issuer?: string;
}

/** The redirect of a client that receives the browser on a loopback interface (RFC 8252 §7.3): the default. */
export interface LoopbackRedirect {
  /** The loopback IP literal to listen on. Default 127.0.0.1. */
  host?: '127.0.0.1' | '::1';
  /** Default 0: a free port, chosen once by `start()` and reused for every authorization of this provider. */
  port?: number;
  /** Default `/callback`. */
  path?: string;
  /** How long each authorization waits for the browser, in milliseconds. Default 300,000. */
  timeoutMs?: number;
}

/** Options of `McpOAuthClientProvider`. */
export interface McpOAuthClientOptions extends HttpOptions {
  /** The MCP server's URL, as given to the transport: the protected resource's metadata must name it (RFC 9728 §3.3). */
  serverUrl: string | URL;
  /** `client_name` in registrations and on consent pages. Default `MCP client`. */
  clientName?: string;
  clientUri?: string;
  logoUri?: string;
  softwareId?: string;
  softwareVersion?: string;
  /**
   * The https URL of this client's Client ID Metadata Document: used as `client_id` by authorization servers that
   * say `client_id_metadata_document_supported` (MCP 2025-11-25). The application serves the document
   * (`clientMetadataDocument()` builds it).
   */
  clientMetadataUrl?: string;
  /** Credentials registered by an operator, used before anything else with the AS they belong to. */
  client?: PreRegisteredClient;
  /**
   * `authorization_code` (default): a user signs in. `client_credentials`: the client acts as itself with the
   * pre-registered `client`'s credentials (MCP extension `io.modelcontextprotocol/oauth-client-credentials`).
   * `jwt-bearer`: the `assertion` (a workload's JWT) is presented with RFC 7523's grant (MCP SEP-1933, workload
   * identity federation). `enterprise-managed`: the user's ID token from `identityProvider` is exchanged there for an
   * ID-JAG for the MCP server's authorization server, then presented there with `jwt-bearer` (MCP SEP-990). The three
   * need the pre-registered `client` (its id, and its credentials where the AS wants them).
   */
  grantType?: 'authorization_code' | 'client_credentials' | 'jwt-bearer' | 'enterprise-managed';
  /** For `jwt-bearer`: the workload's JWT, or a function returning a current one for each token request. */
  assertion?: string | (() => string | Promise<string>);
  /** For `enterprise-managed`: the identity provider the user signed in with, this client's credentials there, the ID token. */
  identityProvider?: IdentityProvider;
  /** Where the browser comes back: a loopback listener (default) or the application's own redirect URI. */
  redirect?: LoopbackRedirect | { redirectUri: string };
  /** OpenID Connect Registration `application_type`. Default `native` with a loopback redirect, `web` otherwise. */
  applicationType?: 'native' | 'web';
  /**
   * Receives each authorization URL to show the user (or, in tests, to follow headlessly). Default: prints it on
   * standard error and opens nothing.
   */
  onAuthorizationUrl?: (url: URL) => void | Promise<void>;
  /** Where the tokens are kept (`MemoryTokenStore` by default; `FileTokenStore` to keep them across runs). */
  tokenStore?: TokenStore;
  /** Where dynamic registrations are kept, by issuer. Default: in memory. */
  registrationStore?: ClientRegistrationStore;
  /** Tokens of different sessions (users, profiles) sharing one store never mix. Default `default`. */
  session?: string;
  /** Scopes to ask for when neither the 401 nor the resource metadata names any. Default: none. */
  scope?: string;
  /** Ask for `offline_access` (a refresh token) when the AS lists it in `scopes_supported` (MCP 2026-07-28). Default true. */
  offlineAccess?: boolean;
  /** Authorizations in a row for the same scopes before giving up with `ERR_AUTHORIZATION_LIMIT`. Default 3. */
  maxAuthorizationAttempts?: number;
  /** Refresh an access token this many seconds before it expires (at most half its lifetime). Default 60. */
  renewBeforeExpirySeconds?: number;
  /** `aud` of client assertions for `private_key_jwt`. Default `issuer` (RFC 7523bis). */
  assertionAudience?: AssertionAudience;
  /** Current time in milliseconds. Default `Date.now`. */
  clock?: () => number;
}
