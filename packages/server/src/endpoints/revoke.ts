import { authenticateClient } from '../oauth/client-authentication.ts';
import type { ServerContext } from '../http/context.ts';
import { endpointPaths } from '../http/context.ts';
import { invalidRequest, unauthorizedClient } from '../oauth/oauth-error.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import { verifyOwnAccessToken } from '../tokens/own-token.ts';
import { refreshTokenHash } from '../tokens/refresh-token.ts';
import { clientAuthDeps } from './token.ts';
import type { RouteDefinition } from '../http/route.ts';

/**
 * RFC 7009 token revocation. The client must own the token (RFC 7009 §2.1); an unknown, invalid or expired token
 * answers 200 with no effect (§2.2), since there is nothing left to revoke.
 */
export function revocationEndpoint(ctx: ServerContext): RouteDefinition {
  return {
    method: 'POST',
    url: endpointPaths.revocation,
    access: 'oauth',
    errorFormat: 'oauth',
    async handler(request, reply) {
      const params = requestForm(request);
      params.rejectRepeated(new Set());
      const { client } = await authenticateClient({ authorization: authorizationHeader(request), params }, clientAuthDeps(ctx));
      const token = params.get('token');
      if (token === undefined) throw invalidRequest('token is required');

      const now = ctx.now();
      // A refresh token: revoking it revokes its whole grant, so the access tokens issued from it (which carry the
      // grant's `gid`) become inactive too (RFC 7009 §2.1: SHOULD).
      const refreshHash = refreshTokenHash(token);
      if (refreshHash) {
        const record = await ctx.store.getRefreshToken(refreshHash);
        const grant = record ? await ctx.store.getGrant(record.grantId) : null;
        if (grant) {
          if (grant.clientId !== client.clientId) {
            await ctx.audit.record({ event: 'token.revocation_refused', actor: client.clientId, clientId: client.clientId, ip: request.ip, detail: { grant_id: grant.id, reason: 'not the token owner' } });
            throw unauthorizedClient('the token was not issued to this client');
          }
          if (await ctx.store.revokeGrant(grant.id, now)) {
            await ctx.audit.record({ event: 'grant.revoked', actor: client.clientId, subject: grant.userId, clientId: client.clientId, ip: request.ip, detail: { grant_id: grant.id, reason: 'refresh token revoked by the client' } });
          }
        }
        return reply.code(200).header('cache-control', 'no-store').send();
      }
      const result = await verifyOwnAccessToken(token, { keys: ctx.keys, issuer: ctx.config.issuer, now });
      if (result.ok) {
        const { claims } = result;
        if (claims.client_id !== client.clientId) {
          await ctx.audit.record({ event: 'token.revocation_refused', actor: client.clientId, clientId: client.clientId, ip: request.ip, detail: { jti: claims.jti, reason: 'not the token owner' } });
          throw unauthorizedClient('the token was not issued to this client');
        }
        await ctx.store.revokeTokenId(claims.jti, claims.exp);
        await ctx.audit.record({ event: 'token.revoked', actor: client.clientId, subject: claims.sub, clientId: client.clientId, ip: request.ip, detail: { jti: claims.jti } });
      }
      return reply.code(200).header('cache-control', 'no-store').send();
    },
  };
}
