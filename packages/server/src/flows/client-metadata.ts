import { z } from 'zod';
import { jwksInput } from '../oauth/client-jwks.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import { isOidcScope } from '../policy/oidc-scopes.ts';
import { redirectUriProblem } from '../policy/redirect-uri.ts';
import { selfRegisteredAllowance } from '../policy/self-registered-allowance.ts';
import type { ClientRecord, ResourceRecord, TokenEndpointAuthMethod } from '../store/store.ts';

/**
 * Client metadata (RFC 7591 §2, OIDC Dynamic Client Registration §2 for `application_type`) as a client states it
 * about itself: in a registration request or in a Client ID Metadata Document. One schema for both; unknown members
 * are ignored (RFC 7591 §2). Errors are RFC 7591 §3.2.2's: `invalid_redirect_uri` for a redirect URI the one
 * redirect-URI policy refuses, `invalid_client_metadata` for anything else, each naming the member and why.
 */

const text = (max: number) => z.string().trim().min(1).max(max);
/** A URL shown to the user or linked from the consent page: https only, so no page can link to script or a local file. */
const httpsUrl = z
  .string()
  .max(2000)
  .refine((value) => URL.canParse(value) && new URL(value).protocol === 'https:', 'must be an https URL');
const scopeList = z
  .string()
  .max(4000)
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be space-separated scope tokens (RFC 6749 §3.3)');

export const REGISTRABLE_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const satisfies readonly TokenEndpointAuthMethod[];
/** What a self-registered client may use: the user's authorization, and refresh when it asks for it. */
// RFC 8628 beside the code flow: a CLI that signs in by browser where it can, by device code where it cannot.
export const REGISTRABLE_GRANT_TYPES = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
const DEVICE_CODE: (typeof REGISTRABLE_GRANT_TYPES)[number] = 'urn:ietf:params:oauth:grant-type:device_code';

export const clientMetadataSchema = z.object({
  // Checked one by one below, so that a refused URI gets `invalid_redirect_uri` with its reason.
  redirect_uris: z.array(z.string().max(2000)).min(1).max(20),
  token_endpoint_auth_method: z.enum(REGISTRABLE_AUTH_METHODS, { error: `must be one of ${REGISTRABLE_AUTH_METHODS.join(', ')}` }).optional(),
  grant_types: z
    .array(z.enum(REGISTRABLE_GRANT_TYPES, { error: `must be ${REGISTRABLE_GRANT_TYPES.join(' or ')}` }))
    .min(1)
    .max(3)
    .optional(),
  response_types: z.array(z.literal('code', { error: 'must be code' })).min(1).max(1).optional(),
  client_name: text(200).optional(),
  client_uri: httpsUrl.optional(),
  logo_uri: httpsUrl.optional(),
  tos_uri: httpsUrl.optional(),
  policy_uri: httpsUrl.optional(),
  contacts: z.array(text(320)).max(10).optional(),
  scope: scopeList.optional(),
  jwks: jwksInput.optional(),
  // https, or http on loopback in development: `client-jwks-fetch.ts` decides when it reads the keys.
  jwks_uri: z.string().max(2000).refine((value) => URL.canParse(value), 'must be a URL').optional(),
  software_id: text(200).optional(),
  software_version: text(200).optional(),
  application_type: z.enum(['native', 'web']).optional(),
  // RFC 9126 §6: the client asks that its authorization requests be refused unless pushed.
  require_pushed_authorization_requests: z.boolean({ error: 'must be true or false' }).optional(),
});

export type ClientMetadata = z.output<typeof clientMetadataSchema>;

export const invalidClientMetadata = (description: string) => new OAuthError('invalid_client_metadata', description);

/** The first zod issue as one sentence: `grant_types.0: must be authorization_code or refresh_token`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'the metadata'}: ${issue.message}`;
}

/**
 * Parses a client's metadata and applies the rules between members: redirect URIs by the redirect-URI policy;
 * `jwks` xor `jwks_uri` (RFC 7591 §2, DCR-01), and only with `private_key_jwt`, which needs one; `response_types`
 * consistent with `grant_types`; the device grant only where the operator allows it (`allowDeviceGrant`: RFC 8628
 * §5.4, remote phishing); `scope` naming only scopes the server knows. `defaultMethod` is what an absent
 * `token_endpoint_auth_method` means (RFC 7591: `client_secret_basic`).
 */
export function parseClientMetadata(
  input: unknown,
  options: { defaultMethod: TokenEndpointAuthMethod; resources: readonly ResourceRecord[]; allowDeviceGrant?: boolean },
): Omit<ClientMetadata, 'grant_types'> & { token_endpoint_auth_method: TokenEndpointAuthMethod; grant_types: string[]; response_types: ['code'] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidClientMetadata('the metadata must be a JSON object');
  const parsed = clientMetadataSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    if (first.path[0] === 'redirect_uris') throw new OAuthError('invalid_redirect_uri', describeIssue(parsed.error));
    throw invalidClientMetadata(describeIssue(parsed.error));
  }
  const metadata = parsed.data;
  for (const uri of metadata.redirect_uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new OAuthError('invalid_redirect_uri', `redirect URI ${uri} ${problem}`);
  }
  const method = metadata.token_endpoint_auth_method ?? options.defaultMethod;
  if (metadata.jwks && metadata.jwks_uri) throw invalidClientMetadata('jwks and jwks_uri must not both be present');
  if (method === 'private_key_jwt' && !metadata.jwks && !metadata.jwks_uri) throw invalidClientMetadata('private_key_jwt needs jwks or jwks_uri');
  if (method !== 'private_key_jwt' && (metadata.jwks || metadata.jwks_uri)) throw invalidClientMetadata('jwks and jwks_uri are only for private_key_jwt');
  const grantTypes = [...new Set(metadata.grant_types ?? ['authorization_code'])];
  // RFC 7591 §2.1: response_type code goes with the authorization_code grant.
  if (!grantTypes.includes('authorization_code')) throw invalidClientMetadata('grant_types must include authorization_code (response_types is code)');
  if (grantTypes.includes(DEVICE_CODE) && options.allowDeviceGrant !== true) {
    throw invalidClientMetadata(`grant_types: ${DEVICE_CODE} is not open to self-registered clients on this server (RFC 8628 §5.4: remote phishing); an operator grants it`);
  }
  if (metadata.scope) {
    const known = new Set(options.resources.flatMap((r) => r.scopes.map((s) => s.name)));
    const unknown = metadata.scope.split(' ').filter((s) => !isOidcScope(s) && !known.has(s));
    if (unknown.length > 0) throw invalidClientMetadata(`scope: ${unknown.join(' ')} is not a scope of any registered resource`);
  }
  return { ...metadata, redirect_uris: [...new Set(metadata.redirect_uris)], token_endpoint_auth_method: method, grant_types: grantTypes, response_types: ['code'] };
}

export type ParsedClientMetadata = ReturnType<typeof parseClientMetadata>;

/**
 * The client record of a self-registered client: an application without an audience list (any registered
 * resource), allowed any scope of the resources registered now, its `scope` its default scopes
 * (`selfRegisteredAllowance`). What it gets is still only what the user consents to.
 */
export function clientRecordFromMetadata(
  clientId: string,
  metadata: ParsedClientMetadata,
  init: { resources: readonly ResourceRecord[]; secretHash: string | null; jwks: ClientRecord['jwks']; now: number; fallbackName: string },
): ClientRecord {
  const { allowedScopes, defaultScopes } = selfRegisteredAllowance(metadata.scope, init.resources);
  return {
    clientId,
    kind: 'app',
    name: metadata.client_name ?? init.fallbackName,
    description: null,
    owner: null,
    status: 'active',
    allowedScopes,
    // RFC 7591 `scope`: what the client asks for; a request of it without `scope` asks for these (policy/token-targets.ts).
    defaultScopes,
    allowedAudiences: [],
    accessTokenTtlSeconds: null,
    tokenEndpointAuthMethod: metadata.token_endpoint_auth_method,
    secretHash: init.secretHash,
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    jwks: init.jwks,
    redirectUris: metadata.redirect_uris,
    grantTypes: metadata.grant_types,
    requirePushedAuthorizationRequests: metadata.require_pushed_authorization_requests === true,
    tokensValidAfter: 0,
    createdAt: init.now,
    updatedAt: init.now,
  };
}

/** The metadata echoed to the client (RFC 7591 §3.2.1) and kept for display: what was accepted, with defaults filled in. */
export function effectiveMetadata(metadata: ParsedClientMetadata, record: ClientRecord): Record<string, unknown> {
  const { jwks: _jwks, ...rest } = metadata;
  return {
    ...rest,
    // The keys as accepted (public members only); a client that sent jwks_uri gets jwks_uri back.
    ...(metadata.jwks && record.jwks ? { jwks: record.jwks } : {}),
    scope: metadata.scope ?? record.allowedScopes.join(' '),
  };
}
