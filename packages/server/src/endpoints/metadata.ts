import { GRANT_TYPE_CIBA, GRANT_TYPE_DEVICE_CODE } from '@mandate/protocol';
import type { Grant } from '../grants/grant.ts';
import { SUPPORTED_AUTH_METHODS } from '../oauth/client-authentication.ts';
import { CLIENT_ASSERTION_ALGS } from '../oauth/client-jwks.ts';
import { GRANT_PROFILE_ID_JAG, GRANT_TYPE_JWT_BEARER, TOKEN_TYPE_ID_JAG, TOKEN_TYPE_JWT } from '@mandate/protocol';
import { DPOP_ALGORITHMS } from '../oauth/dpop.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { ResourceRecords } from '../store/store.ts';
import { endpointPaths, endpointUrl, userEndpointPaths } from '../http/endpoint-paths.ts';
import { OIDC_SCOPES } from '../policy/oidc-scopes.ts';
import type { RouteDefinition } from '../http/route.ts';
import { AUTHORIZATION_DETAILS_TYPES_SUPPORTED } from '../oauth/authorization-details.ts';
import { ACTION_USES_PATH } from './action-uses.ts';
import { TOOL_CALLS_PATH } from './tool-calls.ts';

/**
 * The token and revocation endpoints take every method `authenticateClient` implements, public clients (`none`)
 * included, which must use PKCE (OAuth 2.1 §2.4, MCP-AS-01). Introspection needs a confidential caller.
 */
const TOKEN_AUTH_METHODS = [...SUPPORTED_AUTH_METHODS];
const CLIENT_AUTH_METHODS = SUPPORTED_AUTH_METHODS.filter((method) => method !== 'none');

/**
 * RFC 8414 authorization server metadata, listing exactly what this server implements: endpoints, grants and
 * authentication methods come from what is registered, so the document cannot advertise a missing feature.
 */
export interface MetadataDeps {
  issuer: string;
  keys: Pick<KeyRing, 'active'>;
  resources: Pick<ResourceRecords, 'listResources'>;
  /** RFC 7591 registration endpoint, or null when registration is off. */
  registrationEndpoint: string | null;
  /** Whether an https `client_id` names a Client ID Metadata Document we fetch. */
  clientIdMetadataDocuments: boolean;
  /** Cross-domain trust (docs/cross-domain.md): peers we issue grants for; whether a trusted issuer's ID-JAGs are accepted. */
  crossDomain?: { hasPeers: boolean; acceptsIdJag: boolean };
  /** RFC 9126 §5: whether every authorization request must be pushed first. */
  requirePushedAuthorizationRequests?: boolean;
  /** The FAPI 2.0 mode: `private_key_jwt` is the only client authentication accepted. */
  fapi2?: boolean;
}

export async function authorizationServerMetadata(deps: MetadataDeps, grants: ReadonlyMap<string, Grant>): Promise<Record<string, unknown>> {
  const { issuer } = deps;
  const tokenAuthMethods = deps.fapi2 ? ['private_key_jwt'] : TOKEN_AUTH_METHODS;
  const clientAuthMethods = deps.fapi2 ? ['private_key_jwt'] : CLIENT_AUTH_METHODS;
  const scopes = new Set<string>();
  for (const resource of await deps.resources.listResources()) for (const scope of resource.scopes) scopes.add(scope.name);
  return {
    issuer,
    authorization_endpoint: endpointUrl(issuer, userEndpointPaths.authorization),
    token_endpoint: endpointUrl(issuer, endpointPaths.token),
    // RFC 9126 §5: where authorization requests are pushed, and whether they must be (per client too, §6).
    pushed_authorization_request_endpoint: endpointUrl(issuer, endpointPaths.pushedAuthorization),
    require_pushed_authorization_requests: deps.requirePushedAuthorizationRequests === true,
    jwks_uri: endpointUrl(issuer, endpointPaths.jwks),
    introspection_endpoint: endpointUrl(issuer, endpointPaths.introspection),
    revocation_endpoint: endpointUrl(issuer, endpointPaths.revocation),
    userinfo_endpoint: endpointUrl(issuer, userEndpointPaths.userinfo),
    ...(deps.registrationEndpoint ? { registration_endpoint: deps.registrationEndpoint } : {}),
    scopes_supported: [...Object.keys(OIDC_SCOPES), ...[...scopes].sort()],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    // RFC 7636 / OAuth 2.1: S256 only; MCP clients refuse to proceed without this member (MCP-C-05).
    code_challenge_methods_supported: ['S256'],
    // RFC 9207 §3: every authorization response, success or error, carries `iss`.
    authorization_response_iss_parameter_supported: true,
    // RFC 9396 §10: the authorization detail types understood (issue 12 item 4: one MCP tool call).
    authorization_details_types_supported: [...AUTHORIZATION_DETAILS_TYPES_SUPPORTED],
    // Mandate extensions for resource servers (API key): recording an action token's one use, reporting tool calls.
    action_uses_endpoint: endpointUrl(issuer, ACTION_USES_PATH),
    tool_calls_endpoint: endpointUrl(issuer, TOOL_CALLS_PATH),
    // Mandate extension for clients: a waiting agent's Server-Sent Events stream of its own approval request.
    approval_events_endpoint: endpointUrl(issuer, endpointPaths.approvalEvents),
    grant_types_supported: [...grants.keys()],
    // OpenID CIBA Core 1.0 §4: poll mode; requests join the approval queue (docs/policies.md).
    ...(grants.has(GRANT_TYPE_CIBA)
      ? {
          backchannel_authentication_endpoint: endpointUrl(issuer, endpointPaths.backchannelAuthentication),
          backchannel_token_delivery_modes_supported: ['poll', 'ping'],
          backchannel_user_code_parameter_supported: false,
        }
      : {}),
    // RFC 8628 §4: where a device asks for its codes.
    ...(grants.has(GRANT_TYPE_DEVICE_CODE) ? { device_authorization_endpoint: endpointUrl(issuer, endpointPaths.deviceAuthorization) } : {}),
    token_endpoint_auth_methods_supported: tokenAuthMethods,
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    introspection_endpoint_auth_methods_supported: clientAuthMethods,
    introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    // Public clients revoke their own refresh tokens with client_id alone (RFC 7009 §2.1).
    revocation_endpoint_auth_methods_supported: tokenAuthMethods,
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    // RFC 8707 resource indicators are accepted at the token endpoint; RFC 9068 JWT access tokens.
    resource_indicators_supported: true,
    access_token_signing_alg_values_supported: [deps.keys.active.alg],
    // Also here, not only in OIDC discovery: RFC 8414 clients (our SDK among them) pin ID-token algorithms from it.
    id_token_signing_alg_values_supported: [deps.keys.active.alg],
    // RFC 9449 §5.1: proofs are accepted at the token endpoint with any grant, and at userinfo.
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    // draft-ietf-oauth-identity-chaining §5 and the ID-JAG draft §7: what an exchange issues for a peer, and that
    // ID-JAGs are redeemed here (never which issuers are trusted: the draft forbids disclosing the allow-list).
    ...(deps.crossDomain?.hasPeers ? { identity_chaining_requested_token_types_supported: [TOKEN_TYPE_ID_JAG, TOKEN_TYPE_JWT] } : {}),
    ...(deps.crossDomain?.acceptsIdJag && grants.has(GRANT_TYPE_JWT_BEARER) ? { authorization_grant_profiles_supported: [GRANT_PROFILE_ID_JAG] } : {}),
    // MCP 2025-11-25 (MCP-AS-02, CIMD-09): an https client_id names its metadata document.
    ...(deps.clientIdMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
  };
}

/** OpenID Connect Discovery 1.0 §3 adds a few members to the same document. */
async function openIdConfiguration(deps: MetadataDeps, grants: ReadonlyMap<string, Grant>): Promise<Record<string, unknown>> {
  return {
    ...(await authorizationServerMetadata(deps, grants)),
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'email', 'email_verified', 'name'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
  };
}

export function metadataEndpoints(deps: MetadataDeps, grants: ReadonlyMap<string, Grant>): RouteDefinition[] {
  const issuerPath = new URL(deps.issuer).pathname.replace(/\/$/, '');
  const send = (build: () => Promise<Record<string, unknown>>): RouteDefinition['handler'] =>
    async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(await build()));
  const oauth = send(() => authorizationServerMetadata(deps, grants));
  const oidc = send(() => openIdConfiguration(deps, grants));
  const routes: RouteDefinition[] = [
    // RFC 8414 §3: the well-known suffix is inserted between the host and the issuer's path.
    { method: 'GET', url: `/.well-known/oauth-authorization-server${issuerPath}`, fromOrigin: true, access: 'public', errorFormat: 'oauth', cors: true, handler: oauth },
    // OIDC Discovery §4 appends it to the issuer; MCP clients also try the path-inserted form.
    { method: 'GET', url: `${issuerPath}/.well-known/openid-configuration`, fromOrigin: true, access: 'public', errorFormat: 'oauth', cors: true, handler: oidc },
  ];
  if (issuerPath) {
    routes.push({ method: 'GET', url: `/.well-known/openid-configuration${issuerPath}`, fromOrigin: true, access: 'public', errorFormat: 'oauth', cors: true, handler: oidc });
  }
  return routes;
}

export function jwksEndpoint(keys: Pick<KeyRing, 'secondsUntilJwksChange' | 'jwks'>): RouteDefinition {
  return {
    method: 'GET',
    url: endpointPaths.jwks,
    access: 'public',
    errorFormat: 'oauth',
    cors: true,
    async handler(_request, reply) {
      // Short enough that a new key is seen soon after rotation; resource servers also refetch on an unknown kid.
      const untilChange = keys.secondsUntilJwksChange();
      const maxAge = Math.max(0, Math.min(300, untilChange ?? 300));
      return reply
        .header('cache-control', `public, max-age=${maxAge}`)
        .header('content-type', 'application/jwk-set+json')
        .send(JSON.stringify(keys.jwks()));
    },
  };
}
