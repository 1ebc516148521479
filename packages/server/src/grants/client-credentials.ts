import type { KeyRing } from '../keys/key-ring.ts';
import { OAuthError } from '../oauth/oauth-error.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import { decideTargets, NO_RESOURCES, TARGET_POLICIES, type TargetFacts } from '../policy/token-targets.ts';
import type { ResourceRecords } from '../store/store.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import type { Grant, GrantInput, GrantResult } from './grant.ts';
import { lookUpResources } from './registered-resources.ts';

export interface ClientCredentialsDeps {
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
  keys: KeyRing;
  issuer: string;
  defaultAccessTokenTtlSeconds: number;
  maxAccessTokenTtlSeconds: number;
}

export interface ClientCredentialsRequest {
  /** Canonical `resource` URIs (RFC 8707 §2); empty when none were sent. */
  resources: string[];
  /** Undefined when the request has no `scope`. */
  scopes: string[] | undefined;
}

const policy = TARGET_POLICIES.client_credentials;

/**
 * RFC 6749 §4.4: an agent (or other confidential client) gets a token for itself. `sub` = `client_id` = the
 * agent id; the audience and scopes are decided by `policy/token-targets.ts` (`client_credentials`).
 */
export function clientCredentialsGrant(deps: ClientCredentialsDeps): Grant<ClientCredentialsRequest> {
  return {
    grantType: 'client_credentials',
    repeatable: new Set(['resource']),
    confidentialClientsOnly: true,
    parse: (params) => ({ resources: parseResourceParameters(params), scopes: parseScope(params.get('scope')) }),
    async handle({ client: { client }, request, now }: GrantInput<ClientCredentialsRequest>): Promise<GrantResult> {
      const facts: TargetFacts = {
        requestedResources: request.resources,
        requestedScopes: request.scopes,
        parties: [{ label: 'this client', kind: client.kind, allowedScopes: client.allowedScopes, allowedAudiences: client.allowedAudiences }],
        registered: NO_RESOURCES,
      };
      facts.registered = await lookUpResources(policy.lookUp(facts), deps.resources);
      const decision = decideTargets(policy, facts);
      if (!decision.ok) throw new OAuthError(decision.error, decision.description);

      const ttlSeconds = Math.min(client.accessTokenTtlSeconds ?? deps.defaultAccessTokenTtlSeconds, deps.maxAccessTokenTtlSeconds);
      const minted = mintAccessToken(
        {
          subject: client.clientId,
          subjectIsAgent: client.kind === 'agent',
          clientId: client.clientId,
          audience: decision.resources,
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
