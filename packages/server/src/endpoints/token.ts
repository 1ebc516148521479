import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent, AuditLog } from '../audit/audit-log.ts';
import type { RefusalAudit } from '../audit/refusal-audit.ts';
import type { MandateConfig } from '../config.ts';
import type { DownstreamExchange } from '../grants/downstream-exchange.ts';
import { asksForPeerGrant } from '../grants/cross-domain-exchange.ts';
import type { Grant, GrantResult } from '../grants/grant.ts';
import type { TokenExchangeRequest } from '../grants/token-exchange.ts';
import type { TransactionTokenService, TxnTokenRequester } from '../grants/transaction-token.ts';
import { endpointPaths } from '../http/endpoint-paths.ts';
import type { ServerMetrics } from '../http/metrics.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import type { SharedRateCounts } from '../http/shared-rate-counts.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { authenticateClient, type AuthenticatedClient, type ClientAuthDeps } from '../oauth/client-authentication.ts';
import { checkDpopProof, type DpopDeps, dpopNonceHeader, dpopTokenError } from '../oauth/dpop.ts';
import { invalidRequest, OAuthError, unauthorizedClient } from '../oauth/oauth-error.ts';
import { authenticateResource, presentedResourceKey } from '../oauth/resource-authentication.ts';
import type { ResourceRecords } from '../store/store.ts';
import { GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_TXN_TOKEN } from '@mandate/protocol';
import { sendNoStoreJson } from './oauth-response.ts';

export interface TokenEndpointDeps {
  /** The grants by `grant_type`. */
  grants: ReadonlyMap<string, Grant>;
  clientAuth: ClientAuthDeps;
  audit: Pick<AuditLog, 'record'>;
  /** Where refusals are audited: counted per client, address and minute beyond the first (SR-20). */
  refusals: Pick<RefusalAudit, 'record'>;
  rateLimit: Pick<MandateConfig['rateLimit'], 'tokenPerIpPerMinute' | 'tokenPerClientPerMinute'>;
  dpop: DpopDeps;
  /** The FAPI 2.0 mode: every client's token request carries a DPoP proof (sender-constrained tokens only). */
  dpopRequired?: boolean;
  /** This endpoint's public URL: the `htu` a DPoP proof must name. */
  tokenEndpointUrl: string;
  now(): number;
  /** Request counts shared with the other instances on the database, so that the limits hold across them. */
  sharedRateCounts?: SharedRateCounts;
  /** Counts issued tokens by grant and refusals by error, when metrics are on. */
  metrics?: Pick<ServerMetrics, 'tokenIssued' | 'tokenRefused'>;
  /** Token exchange by a resource server with its API key (a gateway calling on downstream, issue 11 item 2). */
  downstream: { exchange: DownstreamExchange; resources: Pick<ResourceRecords, 'getResourceByApiKeyId'> };
  /** The Transaction Token Service: token exchange with `requested_token_type` txn_token, by an agent or a resource server. */
  transactionTokens: TransactionTokenService;
}

/** Thrown for a rate-limited request; `audit` is false after the first refusal of a burst, so a flood writes one row. */
class RateLimited extends OAuthError {
  readonly audit: boolean;
  constructor(refusal: { retryAfter: number; first: boolean }, scope: string) {
    // RFC 6749 has no code for this; 429 with Retry-After is what clients (and RFC 6585) understand.
    super('invalid_request', `too many token requests; retry after ${refusal.retryAfter}s`, {
      status: 429,
      detail: `rate limited by ${scope}`,
      headers: { 'retry-after': String(refusal.retryAfter) },
    });
    this.audit = refusal.first;
  }
}

/**
 * RFC 6749 §3.2 token endpoint, as a list of named steps: rate-limit by address, parse the form, find the grant,
 * refuse repeated parameters, authenticate the client, rate-limit by client, check the client may use the grant,
 * verify a DPoP proof when one is sent (RFC 9449 §5: then the token is bound to its key), parse the grant's
 * parameters, run it, and commit the audit row before answering. Every refusal is audited too.
 */
export function tokenEndpoint(deps: TokenEndpointDeps): RouteDefinition {
  /** RFC 9449 §5: the thumbprint of a valid proof's key (the token gets bound to it), or undefined without a proof. */
  async function proofJkt(request: FastifyRequest, reply: FastifyReply, now: number): Promise<string | undefined> {
    const proof = request.headers.dpop;
    if (proof === undefined) return undefined;
    const check = await checkDpopProof({ proof: [proof].flat().join(', '), method: 'POST', url: deps.tokenEndpointUrl }, deps.dpop, now);
    if (!check.ok) throw dpopTokenError(check, deps.dpop, now);
    reply.headers(dpopNonceHeader(deps.dpop, now));
    return check.jkt;
  }

  /** A resource server's API key fails: the answer of both its exchange and its Txn-Token requests. */
  const resourceAuthenticationFailed = () =>
    new OAuthError('invalid_client', 'resource server authentication failed', { status: 401, headers: { 'www-authenticate': 'Bearer realm="mandate", error="invalid_token"' } });

  const shared = (prefix: string) => (deps.sharedRateCounts ? { counts: deps.sharedRateCounts, prefix } : undefined);
  const perIp = new RateLimiter(deps.rateLimit.tokenPerIpPerMinute, undefined, shared('token-ip:'));
  const perClient = new RateLimiter(deps.rateLimit.tokenPerClientPerMinute, undefined, shared('token-client:'));

  return {
    method: 'POST',
    url: endpointPaths.token,
    access: 'oauth',
    errorFormat: 'oauth',
    cors: true,
    async handler(request, reply) {
      const ip = request.ip;
      let authenticated: AuthenticatedClient | undefined;
      /** The authenticated caller: a client, or a resource server (its URI) exchanging for a downstream call. */
      let actorId: string | null = null;
      let grantType: string | undefined;
      try {
        const ipRefusal = perIp.take(ip);
        if (ipRefusal) throw new RateLimited(ipRefusal, 'address');

        const params = requestForm(request);
        grantType = params.get('grant_type');
        if (!grantType) throw invalidRequest('grant_type is required');
        const grant = deps.grants.get(grantType);
        if (!grant) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
        params.rejectRepeated(grant.repeatable);

        const now = deps.now();
        const resourceKey = grantType === GRANT_TYPE_TOKEN_EXCHANGE ? presentedResourceKey(authorizationHeader(request)) : undefined;
        // A Txn-Token is not an access token: no DPoP binding, and the workload's registration decides (not its grant types).
        const txnToken = grantType === GRANT_TYPE_TOKEN_EXCHANGE && params.get('requested_token_type') === TOKEN_TYPE_TXN_TOKEN;
        let result: GrantResult;
        let dpopJkt: string | undefined;
        if (txnToken) {
          // The requesting workload: a resource server by its API key, or a client (an agent) by its own authentication.
          let requester: TxnTokenRequester;
          if (resourceKey) {
            const resource = await authenticateResource(resourceKey, deps.downstream, now);
            if (!resource) throw resourceAuthenticationFailed();
            actorId = resource.uri;
            requester = { kind: 'resource', resource };
          } else {
            authenticated = await authenticateClient({ authorization: authorizationHeader(request), params }, deps.clientAuth, now);
            actorId = authenticated.client.clientId;
            requester = { kind: 'client', client: authenticated.client, method: authenticated.method };
          }
          const clientRefusal = perClient.take(actorId);
          if (clientRefusal) throw new RateLimited(clientRefusal, 'client');
          result = await deps.transactionTokens.handle({ requester, request: deps.transactionTokens.parse(params), now, ip });
        } else if (resourceKey) {
          // A resource server exchanging a token it received, for a downstream call (its API key is its credential).
          const resource = await authenticateResource(resourceKey, deps.downstream, now);
          if (!resource) {
            throw new OAuthError('invalid_client', 'resource server authentication failed', { status: 401, headers: { 'www-authenticate': 'Bearer realm="mandate", error="invalid_token"' } });
          }
          actorId = resource.uri;
          if (asksForPeerGrant(grant, params)) throw invalidRequest('a resource server exchanges for a downstream access token only, not for an ID-JAG or a JWT authorization grant');
          const clientRefusal = perClient.take(resource.uri);
          if (clientRefusal) throw new RateLimited(clientRefusal, 'client');
          const grantRequest = grant.parse(params) as TokenExchangeRequest;
          dpopJkt = await proofJkt(request, reply, now);
          result = await deps.downstream.exchange.handle({ resource, keyId: resourceKey.id, request: grantRequest, now, dpopJkt });
        } else {
          authenticated = await authenticateClient({ authorization: authorizationHeader(request), params }, deps.clientAuth, now);
          actorId = authenticated.client.clientId;
          request.authenticatedClientId = actorId;
          const clientRefusal = perClient.take(authenticated.client.clientId);
          if (clientRefusal) throw new RateLimited(clientRefusal, 'client');
          if (!authenticated.client.grantTypes.includes(grant.heldAs ?? grantType)) throw unauthorizedClient(`this client may not use ${grantType}`);
          if (grant.confidentialClientsOnly && authenticated.client.tokenEndpointAuthMethod === 'none') {
            throw invalidRequest(`${grantType} needs a confidential client`);
          }

          const grantRequest = grant.parse(params);
          // RFC 9449 §5.2: a client registered with dpop_bound_access_tokens gets no token without a proof (DP-19).
          if (request.headers.dpop === undefined && (deps.dpopRequired || authenticated.client.dpopBoundAccessTokens === true)) {
            const why = deps.dpopRequired ? 'the FAPI 2.0 mode issues sender-constrained tokens only' : 'this client registered dpop_bound_access_tokens';
            throw new OAuthError('invalid_dpop_proof', `a DPoP proof is required with every token request: ${why}`);
          }
          dpopJkt = await proofJkt(request, reply, now);
          result = await grant.handle({ client: authenticated, request: grantRequest, now, dpopJkt });
        }
        // The key a token is bound to is part of what was issued (a thumbprint: public, not a secret).
        if (dpopJkt !== undefined) result.audit.detail = { ...result.audit.detail, dpop_jkt: dpopJkt };
        // The issued tokens' records are written with their audit row, in one transaction (audit/audit-log.ts).
        await deps.audit.record({ ...result.audit, ip }, result.records);
        deps.metrics?.tokenIssued(grantType);
        return sendNoStoreJson(reply, 200, result.response);
      } catch (err) {
        if (err instanceof OAuthError) deps.metrics?.tokenRefused(err.error);
        if (err instanceof OAuthError && !(err instanceof RateLimited && !err.audit)) {
          const refusal: AuditEvent = {
            event: 'token.refused',
            actor: actorId,
            clientId: authenticated?.client.clientId ?? null,
            ip,
            detail: { grant_type: grantType, error: err.error, reason: err.detail ?? err.message },
          };
          // Counted per client, address and minute beyond the first (SR-20): refused traffic cannot flood the trail.
          await deps.refusals.record(refusal);
        }
        throw err;
      }
    },
  };
}
