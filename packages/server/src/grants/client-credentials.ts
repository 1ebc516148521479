import { invalidRequest, invalidScope, invalidTarget } from '../oauth/oauth-error.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { decideAudienceAndScopes, selectAudience } from '../policy/audience-and-scope.ts';
import type { ResourceRecord, ResourceRecords } from '../store/store.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import type { Grant, GrantInput, GrantResult } from './grant.ts';

export interface ClientCredentialsDeps {
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
  keys: KeyRing;
  issuer: string;
  defaultAccessTokenTtlSeconds: number;
  maxAccessTokenTtlSeconds: number;
}

/**
 * RFC 6749 §4.4: an agent (or other confidential client) gets a token for itself. `sub` = `client_id` = the
 * agent id; the audience is the requested resource (RFC 8707), and scopes never exceed the agent's allowance.
 */
export function clientCredentialsGrant(deps: ClientCredentialsDeps): Grant {
  return {
    grantType: 'client_credentials',
    repeatable: new Set(['resource']),
    async handle({ client: { client }, params, now }: GrantInput): Promise<GrantResult> {
      if (client.tokenEndpointAuthMethod === 'none') throw invalidRequest('client_credentials needs a confidential client');
      const resourcesRequested = parseResourceParameters(params);
      const scopesRequested = parseScope(params.get('scope'));

      const audience = selectAudience(resourcesRequested, client.allowedAudiences);
      const resources = new Map<string, ResourceRecord>();
      if (Array.isArray(audience)) {
        for (const uri of audience) {
          const resource = client.allowedAudiences.includes(uri) ? await deps.resources.getResourceByUri(uri) : null;
          if (resource) resources.set(uri, resource);
        }
      }
      const decision = decideAudienceAndScopes({
        requestedResources: resourcesRequested,
        requestedScopes: scopesRequested,
        allowedScopes: client.allowedScopes,
        allowedAudiences: client.allowedAudiences,
        resources,
      });
      if (!decision.ok) throw decision.error === 'invalid_scope' ? invalidScope(decision.description) : invalidTarget(decision.description);

      const ttlSeconds = Math.min(client.accessTokenTtlSeconds ?? deps.defaultAccessTokenTtlSeconds, deps.maxAccessTokenTtlSeconds);
      const minted = mintAccessToken(
        {
          subject: client.clientId,
          subjectIsAgent: client.kind === 'agent',
          clientId: client.clientId,
          audience: decision.audience,
          scopes: decision.scopes,
          ttlSeconds,
        },
        { keys: deps.keys, issuer: deps.issuer, now },
      );
      const scope = minted.claims.scope;
      return {
        response: { access_token: minted.token, token_type: 'Bearer', expires_in: minted.expiresIn, ...(scope ? { scope } : {}) },
        audit: {
          event: 'token.issued',
          actor: client.clientId,
          subject: client.clientId,
          clientId: client.clientId,
          detail: { grant_type: 'client_credentials', jti: minted.claims.jti, aud: minted.claims.aud, scope: scope ?? '', exp: minted.claims.exp },
        },
      };
    },
  };
}
