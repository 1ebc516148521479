import type { AccessTokenClaims } from '@mandate/protocol';
import type { FastifyRequest } from 'fastify';
import { bearerCredential } from '../oauth/bearer-token.ts';
import { authenticateAdminToken } from '../tokens/admin-token.ts';
import { authenticateClient } from '../oauth/client-authentication.ts';
import type { ServerContext } from '../http/context.ts';
import { endpointPaths } from '../http/context.ts';
import { OAuthError, invalidClient, invalidRequest } from '../oauth/oauth-error.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import type { FormParams } from '../oauth/form-params.ts';
import { ADMIN_TOKEN_PREFIX, parsePrefixedCredential, RESOURCE_KEY_PREFIX, secretMatchesHash } from '../tokens/secret.ts';
import { isAccessTokenActive } from '../tokens/access-token-status.ts';
import { verifyOwnAccessToken } from '../tokens/own-token.ts';
import { VerifiedTokenCache } from '../tokens/verified-token-cache.ts';
import { clientAuthDeps } from './token.ts';
import { sendNoStoreJson } from './oauth-response.ts';
import type { RouteDefinition } from '../http/route.ts';
import type { ResourceRecord } from '../store/store.ts';

/** Who is asking. RFC 7662 §2.1 requires authorization; each kind sees a different slice of tokens. */
type IntrospectionCaller =
  | { kind: 'resource'; uri: string }
  | { kind: 'client'; clientId: string }
  | { kind: 'admin'; tokenId: string };

const bearerRefused = () =>
  new OAuthError('invalid_client', 'caller authentication failed', {
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="mandate", error="invalid_token"' },
  });

/** The current key, or the one the last rotation replaced while its grace period lasts. */
function apiKeyMatches(resource: ResourceRecord, key: { id: string; secret: string }, now: number): boolean {
  if (key.id === resource.apiKeyId) return secretMatchesHash(key.secret, resource.apiKeyHash);
  const inGrace = resource.previousApiKeyExpiresAt !== null && now < resource.previousApiKeyExpiresAt;
  return key.id === resource.previousApiKeyId && inGrace && resource.previousApiKeyHash !== null && secretMatchesHash(key.secret, resource.previousApiKeyHash);
}

async function authenticateCaller(request: FastifyRequest, params: FormParams, ctx: ServerContext): Promise<IntrospectionCaller> {
  const authorization = authorizationHeader(request);
  const bearer = bearerCredential(authorization);
  if (bearer !== undefined) {
    const resourceKey = parsePrefixedCredential(RESOURCE_KEY_PREFIX, bearer);
    if (resourceKey) {
      const resource = await ctx.store.getResourceByApiKeyId(resourceKey.id);
      if (!resource || !apiKeyMatches(resource, resourceKey, ctx.now())) throw bearerRefused();
      return { kind: 'resource', uri: resource.uri };
    }
    if (bearer.startsWith(`${ADMIN_TOKEN_PREFIX}_`)) {
      const tokenId = await authenticateAdminToken(bearer, ctx.store);
      if (!tokenId) throw bearerRefused();
      return { kind: 'admin', tokenId };
    }
    throw bearerRefused();
  }
  const { client, method } = await authenticateClient({ authorization, params }, clientAuthDeps(ctx));
  if (method === 'none') throw invalidClient('public clients may not introspect tokens');
  return { kind: 'client', clientId: client.clientId };
}

/** RFC 7662 §2.2: a caller learns about a token only if it is meant for it (its audience, or its own token). */
function mayInspect(caller: IntrospectionCaller, claims: AccessTokenClaims): boolean {
  switch (caller.kind) {
    case 'admin':
      return true;
    case 'client':
      return claims.client_id === caller.clientId;
    case 'resource':
      return Array.isArray(claims.aud) ? claims.aud.includes(caller.uri) : claims.aud === caller.uri;
  }
}

/**
 * RFC 7662 token introspection. Inactive, unknown, expired, revoked, foreign, malformed or wrongly signed tokens,
 * and tokens whose agent was disabled, all answer exactly `{"active": false}`. Signature checks are cached by the
 * token's SHA-256 until it expires; revocation and agent status are read on every call.
 */
export function introspectionEndpoint(ctx: ServerContext): RouteDefinition {
  const verified = new VerifiedTokenCache<AccessTokenClaims>();
  return {
    method: 'POST',
    url: endpointPaths.introspection,
    access: 'oauth',
    errorFormat: 'oauth',
    async handler(request, reply) {
      const params = requestForm(request);
      params.rejectRepeated(new Set());
      const caller = await authenticateCaller(request, params, ctx);
      const token = params.get('token');
      if (token === undefined) throw invalidRequest('token is required');

      const now = ctx.now();
      const cacheKey = VerifiedTokenCache.keyOf(token);
      let claims = verified.get(cacheKey, now);
      if (!claims) {
        const result = await verifyOwnAccessToken(token, { keys: ctx.keys, issuer: ctx.config.issuer, now });
        if (!result.ok) return sendNoStoreJson(reply, 200, { active: false });
        claims = result.claims;
        verified.set(cacheKey, claims, claims.exp);
      }
      if (!mayInspect(caller, claims) || !(await isAccessTokenActive(claims, { revocations: ctx.store, clients: ctx.store, grants: ctx.store, users: ctx.store }))) {
        return sendNoStoreJson(reply, 200, { active: false });
      }
      return sendNoStoreJson(reply, 200, {
        active: true,
        iss: claims.iss,
        sub: claims.sub,
        aud: claims.aud,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        client_id: claims.client_id,
        token_type: claims.cnf ? 'DPoP' : 'Bearer',
        ...(claims.scope !== undefined && { scope: claims.scope }),
        ...(claims.sub_profile !== undefined && { sub_profile: claims.sub_profile }),
        ...(claims.act !== undefined && { act: claims.act }),
        ...(claims.cnf !== undefined && { cnf: claims.cnf }),
        ...(claims.auth_time !== undefined && { auth_time: claims.auth_time }),
      });
    },
  };
}
