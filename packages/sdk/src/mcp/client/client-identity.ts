import { clientAuthenticationFor, publicClient } from '../../agent/client-authentication.ts';
import type { AssertionAudience, ClientAuthentication } from '../../agent/client-authentication.ts';
import type { AuthorizationServerMetadata } from '../../discovery/authorization-server-metadata.ts';
import { ClientUnidentified, MetadataInvalid } from '../../errors.ts';
import type { HttpOptions } from '../../lib/fetch-json.ts';
import { isAcceptableEndpoint } from '../../lib/issuer-url.ts';
import type { PreRegisteredClient } from './options.ts';
import { clientMetadataMembers, registerClient, tokenEndpointAuthMethodFor } from './registration.ts';
import type { ClientMetadata, ClientRegistration, ClientRegistrationStore } from './registration.ts';

/** A client identity resolved for one issuer, with what authenticating needs. */
export type ResolvedClient = ClientRegistration & Pick<PreRegisteredClient, 'privateKey' | 'privateKeyAlg' | 'privateKeyKid'>;

export interface ClientIdentityOptions {
  /** Credentials an operator registered, with the issuer they belong to (bound to the first one used, if unnamed). */
  preRegistered: PreRegisteredClient | undefined;
  /** This client's Client ID Metadata Document URL, when it has one. */
  clientMetadataUrl: string | undefined;
  /** False for `client_credentials`: such a client neither registers nor uses a metadata document. */
  codeFlow: boolean;
  /** Where RFC 7591 registrations are kept, by issuer. */
  registrations: ClientRegistrationStore;
  /** What this client says about itself when it registers. */
  describe(): ClientMetadata;
  assertionAudience: AssertionAudience | undefined;
  http: HttpOptions & { clock: () => number };
}

/** What a resolution may do and knows. */
export interface ResolveOptions {
  /** False: never register now (a refresh, client authentication after the fact). */
  register: boolean;
  /** The `client_id` a stored token set was obtained with: only that identity can refresh it. */
  clientIdHint?: string;
  /** The scopes a registration declares (RFC 7591 §2 `scope`): the resource's, with `offline_access` if wanted. */
  scope?: string[];
}

/**
 * Which `client_id` an MCP client uses at an authorization server, in the MCP order (2026-07-28, "Client
 * Registration Approaches"; MCP-C-08): credentials an operator registered with that issuer; else the Client ID
 * Metadata Document URL when the AS says `client_id_metadata_document_supported`; else a registration (RFC 7591)
 * made now and kept per issuer in the registration store (reused by later runs when the store persists); else
 * `ERR_CLIENT_UNIDENTIFIED`. Credentials are never presented to another issuer than their own.
 */
export class ClientIdentities {
  readonly #options: ClientIdentityOptions;
  #preRegisteredIssuer: string | undefined;

  constructor(options: ClientIdentityOptions) {
    this.#options = options;
    this.#preRegisteredIssuer = options.preRegistered?.issuer;
  }

  async resolve(issuer: string, metadata: AuthorizationServerMetadata, { register, clientIdHint, scope }: ResolveOptions): Promise<ResolvedClient> {
    const { preRegistered: pre, clientMetadataUrl, codeFlow, registrations } = this.#options;
    const stored = await registrations.get(issuer);
    if (stored !== undefined && (clientIdHint === undefined || stored.clientId === clientIdHint)) return stored;
    if (pre !== undefined && (this.#preRegisteredIssuer === undefined || this.#preRegisteredIssuer === issuer)) {
      this.#preRegisteredIssuer = issuer;
      return preRegisteredFor(issuer, pre);
    }
    if (codeFlow && clientMetadataUrl !== undefined && (metadata.client_id_metadata_document_supported === true || clientIdHint === clientMetadataUrl)) {
      return { issuer, clientId: clientMetadataUrl, tokenEndpointAuthMethod: 'none', kind: 'metadata-document' };
    }
    if (!register) {
      // A registration this process no longer knows (kept in memory by an earlier run): refresh as a public client.
      if (clientIdHint !== undefined) return { issuer, clientId: clientIdHint, tokenEndpointAuthMethod: 'none', kind: 'dynamic' };
      throw new ClientUnidentified(issuer);
    }
    const endpoint = metadata.registration_endpoint;
    if (!codeFlow || !isAcceptableEndpoint(endpoint)) throw new ClientUnidentified(issuer);
    const members = clientMetadataMembers({ ...this.#options.describe(), scope: (scope ?? []).join(' ') });
    const registration = await registerClient(endpoint, issuer, members, this.#options.http);
    await registrations.set(issuer, registration);
    return registration;
  }

  /** Forgets a registration the AS no longer knows (`invalid_client`): the next resolution registers again. */
  async forget(issuer: string, client: ResolvedClient | undefined): Promise<void> {
    if (client?.kind === 'dynamic') await this.#options.registrations.delete(issuer);
  }

  /** Client authentication at the token endpoint by the registered method (RFC 6749 §2.3.1, RFC 7523). */
  authentication(client: ResolvedClient, metadata: AuthorizationServerMetadata): ClientAuthentication {
    const method = tokenEndpointAuthMethodFor(client, metadata.token_endpoint_auth_methods_supported);
    if (method === 'none') return publicClient(client.clientId);
    if (method !== 'client_secret_basic' && method !== 'client_secret_post' && method !== 'private_key_jwt') throw new MetadataInvalid('token_endpoint_auth_method');
    return clientAuthenticationFor({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      privateKey: client.privateKey,
      privateKeyAlg: client.privateKeyAlg,
      privateKeyKid: client.privateKeyKid,
      tokenEndpointAuthMethod: method,
      assertionAudience: this.#options.assertionAudience,
      clock: this.#options.http.clock,
    });
  }
}

function preRegisteredFor(issuer: string, pre: PreRegisteredClient): ResolvedClient {
  const resolved: ResolvedClient = { issuer, clientId: pre.clientId, kind: 'pre-registered' };
  const method = pre.tokenEndpointAuthMethod ?? (pre.privateKey !== undefined ? 'private_key_jwt' : undefined);
  if (method !== undefined) resolved.tokenEndpointAuthMethod = method;
  if (pre.clientSecret !== undefined) resolved.clientSecret = pre.clientSecret;
  if (pre.privateKey !== undefined) resolved.privateKey = pre.privateKey;
  if (pre.privateKeyAlg !== undefined) resolved.privateKeyAlg = pre.privateKeyAlg;
  if (pre.privateKeyKid !== undefined) resolved.privateKeyKid = pre.privateKeyKid;
  return resolved;
}
