import { GRANT_TYPE_CIBA, GRANT_TYPE_DEVICE_CODE, GRANT_TYPE_TOKEN_EXCHANGE } from '@mandate/protocol';
import { z } from 'zod';
import { GRANT_TYPE_JWT_BEARER } from '@mandate/protocol';
import { redirectUriProblem } from '../policy/redirect-uri.ts';
import type { ClientRecord, ClientRegistrationRecord } from '../store/store.ts';
import { generateSecret, hashSecret, newId } from '../tokens/secret.ts';
import { isOidcScope } from '../policy/oidc-scopes.ts';
import { ManagementError } from './management-error.ts';
import { emailAddress, jwksInput, parseInput, resourceUri, scopeToken } from './input.ts';
import { usableClientJwks } from '../oauth/client-jwks.ts';
import { checkAccessTokenTtl, checkAudiencesRegistered, deleteClientRecord, existingClientOfKind, insertClient, rotateClientRecordSecret, setClientRecordStatus, type ClientStore } from './client-lifecycle.ts';
import type { ManagementDeps } from './management-deps.ts';

/**
 * OAuth application ("app" clients: web apps, CLIs, MCP clients) management, shared by `mandate client …` and
 * `/admin/v1/clients`. Public clients (`--public`) authenticate with `none` and rely on PKCE; confidential ones get
 * a secret, shown once and stored as a SHA-256.
 */

export interface ClientView {
  client_id: string;
  name: string;
  description: string | null;
  owner: string | null;
  status: ClientRecord['status'];
  redirect_uris: string[];
  scopes: string[];
  /** What the client gets when it asks for no scope (as if it had sent them). */
  default_scopes: string[];
  audiences: string[];
  grant_types: string[];
  token_endpoint_auth_method: ClientRecord['tokenEndpointAuthMethod'];
  access_token_ttl_seconds: number | null;
  /** RFC 9449 §5.2: every token request must carry a DPoP proof. */
  dpop_bound_access_tokens: boolean;
  /** RFC 9126 §6: plain authorization requests are refused; the client pushes them first. */
  require_pushed_authorization_requests: boolean;
  /** The public keys of a `private_key_jwt` client; null otherwise. */
  jwks: ClientRecord['jwks'];
  created_at: number;
  updated_at: number;
  /**
   * How the client came to be when it registered itself (issue 9): `dynamic` (RFC 7591) or `metadata_document`
   * (its client_id is the URL of its metadata document, on `document_host`). Null for a client an operator created.
   * A self-registered client is unverified: nobody vouched for its name or its redirect URIs.
   */
  registration: { source: ClientRegistrationRecord['source']; document_host?: string; software_statement_issuer?: string; registered_at: number } | null;
}

function registrationView(registration: ClientRegistrationRecord | null): ClientView['registration'] {
  if (!registration) return null;
  const issuer = registration.metadata['software_statement_issuer'];
  return {
    source: registration.source,
    ...(registration.source === 'metadata_document' ? { document_host: new URL(registration.clientId).host } : {}),
    ...(typeof issuer === 'string' ? { software_statement_issuer: issuer } : {}),
    registered_at: registration.createdAt,
  };
}

function clientView(record: ClientRecord, registration: ClientRegistrationRecord | null = null): ClientView {
  return {
    client_id: record.clientId,
    name: record.name,
    description: record.description,
    owner: record.owner,
    status: record.status,
    redirect_uris: record.redirectUris,
    scopes: record.allowedScopes,
    default_scopes: record.defaultScopes,
    audiences: record.allowedAudiences,
    grant_types: record.grantTypes,
    token_endpoint_auth_method: record.tokenEndpointAuthMethod,
    access_token_ttl_seconds: record.accessTokenTtlSeconds,
    dpop_bound_access_tokens: record.dpopBoundAccessTokens === true,
    require_pushed_authorization_requests: record.requirePushedAuthorizationRequests === true,
    jwks: record.jwks && usableClientJwks(record.jwks),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    registration: registrationView(registration),
  };
}

const viewOf = async (record: ClientRecord, deps: Pick<ManagementDeps<ClientStore>, 'store'>) =>
  clientView(record, await deps.store.getClientRegistration(record.clientId));

const redirectUri = z.string().max(2000).superRefine((value, ctx) => {
  const problem = redirectUriProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const grantType = z.enum(['authorization_code', 'refresh_token', GRANT_TYPE_TOKEN_EXCHANGE, GRANT_TYPE_CIBA, GRANT_TYPE_DEVICE_CODE]);

const fields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable(),
  owner: emailAddress.nullable(),
  redirect_uris: z.array(redirectUri).min(1).max(20),
  scopes: z.array(scopeToken).max(200),
  default_scopes: z.array(scopeToken).max(200),
  audiences: z.array(resourceUri).max(50),
  access_token_ttl_seconds: z.number().int().min(60).nullable(),
  dpop_bound_access_tokens: z.boolean(),
  require_pushed_authorization_requests: z.boolean(),
  grant_types: z.array(grantType).min(1).max(5),
};

/** The grant types a client may hold; RFC 7523 §2.1 too (docs/cross-domain.md): a client redeeming other domains' assertions. */
const grantTypes = z.array(z.union([grantType, z.literal(GRANT_TYPE_JWT_BEARER)])).min(1).max(6);

const createSchema = z
  .object({
    ...fields,
    description: fields.description.optional(),
    owner: fields.owner.optional(),
    scopes: fields.scopes.default([]),
    default_scopes: fields.default_scopes.default([]),
    audiences: fields.audiences.default([]),
    access_token_ttl_seconds: fields.access_token_ttl_seconds.optional(),
    dpop_bound_access_tokens: fields.dpop_bound_access_tokens.default(false),
    require_pushed_authorization_requests: fields.require_pushed_authorization_requests.default(false),
    grant_types: grantTypes.default(['authorization_code', 'refresh_token']),
    public: z.boolean().default(false),
    // A confidential client authenticates with a secret, or with private_key_jwt and these keys (FAPI 2.0 needs the latter).
    jwks: jwksInput.optional(),
  })
  .strict()
  .refine((c) => !(c.public && c.jwks), { message: 'a public client has no keys', path: ['jwks'] });

const updateSchema = z.object({ ...fields, grant_types: grantTypes }).partial().strict();

/** Default scopes must be scopes the client may hold (or OpenID ones, which every client may ask for). */
function checkDefaultScopes(defaults: readonly string[] | undefined, allowed: readonly string[]): void {
  const stray = (defaults ?? []).filter((s) => !allowed.includes(s) && !isOidcScope(s));
  if (stray.length > 0) throw new ManagementError('invalid-request', `default_scopes: ${stray.join(' ')} not among the client's scopes`);
}

const existingClient = (deps: ManagementDeps<ClientStore>, clientId: string) => existingClientOfKind(deps, 'app', clientId);

export async function createClient(input: unknown, deps: ManagementDeps<ClientStore>): Promise<{ client: ClientView; clientSecret: string | null }> {
  const parsed = parseInput(createSchema, input);
  checkAccessTokenTtl(parsed.access_token_ttl_seconds, deps);
  checkDefaultScopes(parsed.default_scopes, parsed.scopes);
  await checkAudiencesRegistered(parsed.audiences, deps);
  const method = parsed.public ? 'none' : parsed.jwks ? 'private_key_jwt' : 'client_secret_basic';
  const clientSecret = method === 'client_secret_basic' ? generateSecret() : null;
  const record: ClientRecord = {
    clientId: newId('app'),
    kind: 'app',
    name: parsed.name,
    description: parsed.description ?? null,
    owner: parsed.owner ?? null,
    status: 'active',
    allowedScopes: [...new Set(parsed.scopes)],
    defaultScopes: [...new Set(parsed.default_scopes)],
    allowedAudiences: [...new Set(parsed.audiences)],
    accessTokenTtlSeconds: parsed.access_token_ttl_seconds ?? null,
    dpopBoundAccessTokens: parsed.dpop_bound_access_tokens,
    requirePushedAuthorizationRequests: parsed.require_pushed_authorization_requests,
    tokenEndpointAuthMethod: method,
    secretHash: clientSecret ? hashSecret(clientSecret) : null,
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    jwks: parsed.jwks ?? null,
    redirectUris: [...new Set(parsed.redirect_uris)],
    grantTypes: [...new Set(parsed.grant_types)],
    tokensValidAfter: 0,
    createdAt: deps.now,
    updatedAt: deps.now,
  };
  await insertClient(
    record,
    { name: record.name, redirect_uris: record.redirectUris, scopes: record.allowedScopes, default_scopes: record.defaultScopes, public: parsed.public, grant_types: record.grantTypes },
    deps,
  );
  return { client: clientView(record), clientSecret };
}

export async function listClients(deps: Pick<ManagementDeps<ClientStore>, 'store'>): Promise<ClientView[]> {
  return Promise.all((await deps.store.listClients({ kind: 'app' })).map((record) => viewOf(record, deps)));
}

export async function getClient(clientId: string, deps: ManagementDeps<ClientStore>): Promise<ClientView> {
  return viewOf(await existingClient(deps, clientId), deps);
}

export async function updateClient(clientId: string, input: unknown, deps: ManagementDeps<ClientStore>): Promise<ClientView> {
  const parsed = parseInput(updateSchema, input);
  checkAccessTokenTtl(parsed.access_token_ttl_seconds, deps);
  await checkAudiencesRegistered(parsed.audiences, deps);
  const current = await existingClient(deps, clientId);
  const allowed = parsed.scopes ?? current.allowedScopes;
  // Scopes a new list drops leave the defaults too, unless the defaults are set in the same request.
  const defaults = parsed.default_scopes ?? (parsed.scopes && current.defaultScopes.filter((s) => allowed.includes(s) || isOidcScope(s)));
  checkDefaultScopes(defaults, allowed);
  const updated = (await deps.store.updateClient(clientId, {
    name: parsed.name,
    description: parsed.description,
    owner: parsed.owner,
    redirectUris: parsed.redirect_uris,
    allowedScopes: parsed.scopes,
    defaultScopes: defaults && [...new Set(defaults)],
    allowedAudiences: parsed.audiences,
    accessTokenTtlSeconds: parsed.access_token_ttl_seconds,
    dpopBoundAccessTokens: parsed.dpop_bound_access_tokens,
    requirePushedAuthorizationRequests: parsed.require_pushed_authorization_requests,
    grantTypes: parsed.grant_types,
    updatedAt: deps.now,
  }))!;
  await deps.audit.record({ event: 'client.updated', actor: deps.actor, subject: clientId, clientId, detail: { fields: Object.keys(parsed) } });
  return viewOf(updated, deps);
}

/** Disabling a client makes every token issued to it inactive (introspection checks the client behind a token). */
export async function setClientStatus(clientId: string, status: ClientRecord['status'], deps: ManagementDeps<ClientStore>): Promise<ClientView> {
  return viewOf(await setClientRecordStatus('app', clientId, status, deps), deps);
}

/** A new secret for a confidential client, shown once; the old one keeps its grace period (client-lifecycle.ts). */
export async function rotateClientSecret(clientId: string, deps: ManagementDeps<ClientStore>, options: { graceSeconds?: unknown } = {}): Promise<{ client: ClientView; clientSecret: string }> {
  const { record, clientSecret } = await rotateClientRecordSecret('app', clientId, deps, options);
  return { client: await viewOf(record, deps), clientSecret };
}

export async function deleteClient(clientId: string, deps: ManagementDeps<ClientStore>): Promise<void> {
  await deleteClientRecord('app', clientId, deps);
}
