import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { AssertionAudience } from '../../agent/client-authentication.ts';
import type { IdentityProvider } from '../../agent/id-jag.ts';
import type { TokenStore } from '../../agent/token-store.ts';
import type { DpopProver } from '../../dpop/prover.ts';
import type { HttpOptions } from '../../lib/fetch-json.ts';
import { isMetadataDocumentUrl } from './registration.ts';
import type { ClientMetadata, ClientRegistrationStore } from './registration.ts';

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
  /**
   * DPoP (RFC 9449): `true` makes the provider hold an ES256 key of its own (in memory), a `DpopProver` uses that
   * one. Its token requests (every grant, and refreshes) then carry proofs and its tokens come bound
   * (`token_type: DPoP`); give the transport `fetch: provider.fetch`, which sends proofs with the token requests of
   * the MCP SDK's `auth()` and calls the MCP server with the `DPoP` scheme and a proof, retrying once for the
   * nonce of the authorization server (§8) and of the resource (§9). Default: none (Bearer tokens).
   */
  dpop?: boolean | DpopProver;
  /**
   * Keep the DPoP private key (as a JWK) in the token store with the tokens bound to it, so that a provider started
   * again on the same store presents and refreshes them. Default false: the key never leaves memory, and bound tokens
   * left in a persistent store by an earlier process are not used (the user authorizes again).
   */
  storeDpopKey?: boolean;
  /** Current time in milliseconds. Default `Date.now`. */
  clock?: () => number;
}

/** The options a provider is made with, checked (a caller's misuse is a TypeError when the provider is made). */
export interface CheckedProviderOptions {
  serverUrl: string;
  grantType: NonNullable<McpOAuthClientOptions['grantType']>;
  maxAttempts: number;
  renewBeforeMs: number;
}

/** Checks the options of `McpOAuthClientProvider`: each grant type has what it needs, every number is in range. */
export function checkProviderOptions(options: McpOAuthClientOptions): CheckedProviderOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const serverUrl = String(options.serverUrl);
  if (!URL.canParse(serverUrl) || serverUrl.includes('#')) throw new TypeError('serverUrl must be an absolute URL without a fragment');
  if (options.clientMetadataUrl !== undefined && !isMetadataDocumentUrl(options.clientMetadataUrl)) {
    throw new TypeError('clientMetadataUrl must be an https URL with a path (draft-ietf-oauth-client-id-metadata-document §2)');
  }
  const client = options.client;
  if (client !== undefined && (typeof client !== 'object' || client === null || typeof client.clientId !== 'string' || client.clientId === '')) {
    throw new TypeError('client.clientId must be a non-empty string');
  }
  const grantType = options.grantType ?? 'authorization_code';
  if (grantType !== 'authorization_code' && client === undefined) throw new TypeError(`grantType ${grantType} needs the pre-registered client`);
  if (grantType === 'jwt-bearer' && !(typeof options.assertion === 'function' || (typeof options.assertion === 'string' && options.assertion !== ''))) {
    throw new TypeError('grantType jwt-bearer needs the assertion (a JWT, or a function returning one)');
  }
  if (grantType === 'enterprise-managed' && (typeof options.identityProvider !== 'object' || options.identityProvider === null)) {
    throw new TypeError('grantType enterprise-managed needs the identityProvider');
  }
  const dpop = options.dpop;
  if (dpop !== undefined && typeof dpop !== 'boolean' && (typeof dpop !== 'object' || dpop === null || typeof dpop.proof !== 'function')) {
    throw new TypeError('dpop must be a boolean or a DpopProver');
  }
  if (options.storeDpopKey !== undefined && typeof options.storeDpopKey !== 'boolean') throw new TypeError('storeDpopKey must be a boolean');
  const maxAttempts = options.maxAuthorizationAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new TypeError('maxAuthorizationAttempts must be a positive integer');
  const renewBefore = options.renewBeforeExpirySeconds ?? 60;
  if (!Number.isFinite(renewBefore) || renewBefore < 0) throw new TypeError('renewBeforeExpirySeconds must be ≥ 0');
  return { serverUrl, grantType, maxAttempts, renewBeforeMs: renewBefore * 1000 };
}

/** What this client says about itself (RFC 7591 §2 metadata): in registrations and its metadata document. */
export function describeClient(options: McpOAuthClientOptions, redirect: { redirectUri: string | undefined; isLoopback: boolean } | undefined): ClientMetadata {
  const redirectUri = redirect?.redirectUri;
  const metadata: ClientMetadata = {
    clientName: options.clientName ?? 'MCP client',
    redirectUris: redirectUri === undefined ? [] : [redirectUri],
    applicationType: options.applicationType ?? (redirect?.isLoopback === false ? 'web' : 'native'),
  };
  if (options.clientUri !== undefined) metadata.clientUri = options.clientUri;
  if (options.logoUri !== undefined) metadata.logoUri = options.logoUri;
  if (options.softwareId !== undefined) metadata.softwareId = options.softwareId;
  if (options.softwareVersion !== undefined) metadata.softwareVersion = options.softwareVersion;
  return metadata;
}
