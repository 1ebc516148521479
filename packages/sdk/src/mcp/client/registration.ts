import { RegistrationFailed } from '../../errors.ts';
import { fetchJson, isJsonObject } from '../../lib/fetch-json.ts';
import type { HttpOptions } from '../../lib/fetch-json.ts';

/**
 * How an MCP client is known to one authorization server: its `client_id`, how it authenticates at the token
 * endpoint, and where it came from. Credentials are bound to the issuer they were obtained from and never
 * presented to another (MCP 2026-07-28, "Client Registration Approaches"; MCP-C-08).
 */
export interface ClientRegistration {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** RFC 7591 §3.2.1, seconds since the epoch; 0 = never. */
  clientSecretExpiresAt?: number;
  /** The token endpoint authentication method the AS stated it registered; when absent, chosen at use ({@link tokenEndpointAuthMethodFor}). */
  tokenEndpointAuthMethod?: string;
  /** RFC 7592: to read, update or delete the registration later. */
  registrationAccessToken?: string;
  registrationClientUri?: string;
  /** `dynamic`: registered here (RFC 7591); `metadata-document`: an https `client_id` (CIMD); `pre-registered`. */
  kind: 'dynamic' | 'metadata-document' | 'pre-registered';
}

/** Where dynamic registrations are kept, by issuer. Give a persistent one to reuse registrations across runs. */
export interface ClientRegistrationStore {
  get(issuer: string): Promise<ClientRegistration | undefined>;
  set(issuer: string, registration: ClientRegistration): Promise<void>;
  delete(issuer: string): Promise<void>;
}

/** A {@link ClientRegistrationStore} in memory; values are copied in and out. */
export class MemoryClientRegistrationStore implements ClientRegistrationStore {
  readonly #entries = new Map<string, ClientRegistration>();
  async get(issuer: string): Promise<ClientRegistration | undefined> {
    const value = this.#entries.get(issuer);
    return value === undefined ? undefined : structuredClone(value);
  }
  async set(issuer: string, registration: ClientRegistration): Promise<void> {
    this.#entries.set(issuer, structuredClone(registration));
  }
  async delete(issuer: string): Promise<void> {
    this.#entries.delete(issuer);
  }
}

/** What a client says about itself, in registration requests and in its Client ID Metadata Document. */
export interface ClientMetadata {
  clientName: string;
  redirectUris: string[];
  /** OpenID Connect Registration §2 `application_type` (MCP 2026-07-28 clients MUST send it): `native` for a CLI or desktop client on a loopback redirect. */
  applicationType: 'native' | 'web';
  clientUri?: string;
  logoUri?: string;
  softwareId?: string;
  softwareVersion?: string;
  /** Scopes the client may ask for (RFC 7591 §2 `scope`), when known. */
  scope?: string;
}

/**
 * The RFC 7591 §2 metadata of a public MCP client using the authorization code grant with PKCE: it declares the
 * `refresh_token` grant (MCP 2026-07-28 offline-access guidance, SEP-2207) and authenticates with `none`.
 */
export function clientMetadataMembers(metadata: ClientMetadata): Record<string, unknown> {
  const members: Record<string, unknown> = {
    client_name: metadata.clientName,
    redirect_uris: [...metadata.redirectUris],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: metadata.applicationType,
  };
  if (metadata.clientUri !== undefined) members['client_uri'] = metadata.clientUri;
  if (metadata.logoUri !== undefined) members['logo_uri'] = metadata.logoUri;
  if (metadata.softwareId !== undefined) members['software_id'] = metadata.softwareId;
  if (metadata.softwareVersion !== undefined) members['software_version'] = metadata.softwareVersion;
  if (metadata.scope !== undefined && metadata.scope !== '') members['scope'] = metadata.scope;
  return members;
}

/**
 * The Client ID Metadata Document to serve at `url` (draft-ietf-oauth-client-id-metadata-document-01 §3): the
 * registration metadata with `client_id` equal to the URL, no secret, `token_endpoint_auth_method` `none`.
 *
 * @example
 * app.get('/oauth/client.json', (req, res) => res.json(clientMetadataDocument('https://app.example.com/oauth/client.json', metadata)));
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document
 */
export function clientMetadataDocument(url: string, metadata: ClientMetadata): Record<string, unknown> {
  if (!isMetadataDocumentUrl(url)) throw new TypeError('a Client ID Metadata Document URL must be https with a path, and no fragment, user or dot segments');
  const { scope: _scope, ...rest } = metadata;
  return { client_id: url, ...clientMetadataMembers(rest) };
}

/**
 * True for a URL that may serve as a Client ID Metadata Document `client_id` (draft §2): https, a path other than
 * `/`, no fragment, no user information, no `.` or `..` segments. `http://localhost` is accepted too, for
 * authorization servers in a development mode that allow it.
 */
export function isMetadataDocumentUrl(url: string): boolean {
  if (typeof url !== 'string' || !URL.canParse(url) || url.includes('#')) return false;
  const parsed = new URL(url);
  const local = parsed.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !local) return false;
  if (parsed.username !== '' || parsed.password !== '' || parsed.pathname === '/') return false;
  return !/(^|\/)\.\.?(\/|$)/.test(url.slice(parsed.origin.length).split('?')[0]!);
}

/**
 * Registers the client with the AS's registration endpoint (RFC 7591 §3.1) and reads the answer (§3.2.1; 201,
 * or 200 from servers that answer so), keeping the `token_endpoint_auth_method` the AS states. Refusals are
 * `ERR_REGISTRATION_FAILED` with the RFC 7591 §3.2.2 `error`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export async function registerClient(endpoint: string, issuer: string, members: Record<string, unknown>, http: HttpOptions): Promise<ClientRegistration> {
  let answer;
  try {
    answer = await fetchJson(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(members) }, http);
  } catch (cause) {
    throw new RegistrationFailed(`could not reach ${endpoint}`, { status: 0, cause });
  }
  const body = answer.json;
  if (answer.status !== 201 && answer.status !== 200) {
    const error = isJsonObject(body) && typeof body.error === 'string' ? body.error : undefined;
    const errorDescription = isJsonObject(body) && typeof body.error_description === 'string' ? body.error_description : undefined;
    throw new RegistrationFailed(`the registration endpoint answered ${answer.status}${error === undefined ? '' : ` ${error}`}`, {
      status: answer.status,
      ...(error === undefined ? {} : { error }),
      ...(errorDescription === undefined ? {} : { errorDescription }),
    });
  }
  if (!isJsonObject(body) || typeof body.client_id !== 'string' || body.client_id === '') {
    throw new RegistrationFailed('the registration endpoint answered without a client_id (RFC 7591 §3.2.1)', { status: answer.status });
  }
  const secret = typeof body.client_secret === 'string' && body.client_secret !== '' ? body.client_secret : undefined;
  const stated = typeof body.token_endpoint_auth_method === 'string' ? body.token_endpoint_auth_method : undefined;
  const registration: ClientRegistration = { issuer, clientId: body.client_id, kind: 'dynamic' };
  if (stated !== undefined) registration.tokenEndpointAuthMethod = stated;
  if (secret !== undefined) registration.clientSecret = secret;
  if (typeof body.client_secret_expires_at === 'number') registration.clientSecretExpiresAt = body.client_secret_expires_at;
  if (typeof body.registration_access_token === 'string') registration.registrationAccessToken = body.registration_access_token;
  if (typeof body.registration_client_uri === 'string') registration.registrationClientUri = body.registration_client_uri;
  return registration;
}

/**
 * The token endpoint authentication method to use for a registration: the one the AS registered; otherwise, with
 * a secret, `client_secret_basic` (RFC 8414 §2's default, and every AS must take it, RFC 6749 §2.3.1) unless the
 * AS's `token_endpoint_auth_methods_supported` lists only `client_secret_post` or only `none`; without one, `none`.
 */
export function tokenEndpointAuthMethodFor(registration: Pick<ClientRegistration, 'tokenEndpointAuthMethod' | 'clientSecret'>, supported: unknown): string {
  if (registration.tokenEndpointAuthMethod !== undefined) return registration.tokenEndpointAuthMethod;
  if (registration.clientSecret === undefined) return 'none';
  const methods = Array.isArray(supported) ? supported : [];
  if (methods.length === 0 || methods.includes('client_secret_basic')) return 'client_secret_basic';
  if (methods.includes('client_secret_post')) return 'client_secret_post';
  return methods.includes('none') ? 'none' : 'client_secret_basic';
}
