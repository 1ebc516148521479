import { GRANT_TYPE_CIBA } from '@mandate/protocol';
import { invalidAuthorizationDetails, parseAuthorizationDetails, type RequestedMcpToolDetail } from '../oauth/authorization-details.ts';
import { invalidGrant, OAuthError } from '../oauth/oauth-error.ts';
import type { ApprovalRequestRecords, UserGrantRecords, UserRecords } from '../store/store.ts';
import { decisionProblem } from '../lifecycle/token-lifecycle.ts';
import { hashSecret, newId } from '../tokens/secret.ts';
import type { Grant, GrantInput, GrantResult } from './grant.ts';
import { issueUserTokens, policyLimitedLifetime, type UserTokenDeps } from './user-tokens.ts';

export interface CibaDeps extends UserTokenDeps {
  approvals: Pick<ApprovalRequestRecords, 'getApprovalRequestByAuthReq' | 'pollApprovalRequest' | 'useApprovalRequest'>;
  grants: Pick<UserGrantRecords, 'createGrant'>;
  users: Pick<UserRecords, 'getUser'>;
  refreshTokenFamilyTtlSeconds: number;
}

/** §11: after `slow_down` the client must wait this much longer between polls. */
const SLOW_DOWN_STEP_SECONDS = 5;

/**
 * OpenID CIBA Core 1.0 §10 (poll mode): the client polls with its `auth_req_id`. Errors exactly as §11 specifies:
 * `authorization_pending` while approvers have not decided, `slow_down` for a poll sooner than the interval (which
 * then grows by 5 s), `expired_token` once the request expired, `access_denied` when it was denied, `invalid_grant`
 * for an unknown id, another client's (CIBA-04) or one already used. An approval yields the user's tokens once:
 * a user grant (so the lifecycle rules apply), an access token for what was approved, an ID token, and a refresh
 * token when `offline_access` was approved and the client may refresh.
 */
type CibaRequest = { authReqId: string; authorizationDetails: RequestedMcpToolDetail[] | undefined };

/**
 * RFC 9396 §6.1 (RAR-07): a token request may only narrow what was approved; with one approved call, it may only
 * repeat it. Anything else, or details where none were approved, is refused.
 */
function checkRequestedDetails(requested: RequestedMcpToolDetail[] | undefined, approved: readonly { tool: string; arguments_sha256: string; locations: string[] }[] | null): void {
  if (requested === undefined) return;
  const same = (r: RequestedMcpToolDetail) =>
    approved?.some((a) => a.tool === r.tool && a.arguments_sha256 === r.arguments_sha256 && (r.locations === undefined || r.locations[0] === a.locations[0]));
  if (!requested.every(same)) throw invalidAuthorizationDetails('authorization_details asks for more than was approved');
}

export function cibaGrant(deps: CibaDeps): Grant<CibaRequest> {
  return {
    grantType: GRANT_TYPE_CIBA,
    repeatable: new Set(),
    confidentialClientsOnly: true,
    parse: (params) => ({ authReqId: params.required('auth_req_id'), authorizationDetails: parseAuthorizationDetails(params.get('authorization_details')) }),
    async handle({ client: { client }, request, now, dpopJkt }: GrantInput<CibaRequest>): Promise<GrantResult> {
      const authReqHash = hashSecret(request.authReqId);
      let record = await deps.approvals.getApprovalRequestByAuthReq(authReqHash);
      if (!record || record.clientId !== client.clientId) throw invalidGrant('auth_req_id is invalid');
      if (record.usedAt !== null) throw invalidGrant('auth_req_id was already used');
      if (record.expiresAt <= now) throw new OAuthError('expired_token', 'the auth_req_id has expired');
      if (record.status === 'pending') {
        // The interval check and the poll's record are one conditional write: concurrent polls cannot both pass it.
        const poll = await deps.approvals.pollApprovalRequest(record.id, now, { initial: SLOW_DOWN_STEP_SECONDS, step: SLOW_DOWN_STEP_SECONDS });
        if (poll.outcome === 'slow_down') throw new OAuthError('slow_down', `poll at most every ${poll.interval} seconds`);
        if (poll.outcome === 'pending') throw new OAuthError('authorization_pending', 'the request is waiting for approval');
        // Decided since it was read: the decision as it now stands.
        record = (await deps.approvals.getApprovalRequestByAuthReq(authReqHash))!;
      }
      if (record.status === 'denied') throw new OAuthError('access_denied', `the request was denied${record.reason ? `: ${record.reason}` : ''}`);
      if (record.status === 'expired') throw new OAuthError('expired_token', 'the auth_req_id has expired');
      if (record.status !== 'approved' || record.userId === null) throw invalidGrant('auth_req_id is invalid');
      checkRequestedDetails(request.authorizationDetails, record.authorizationDetails ?? null);
      const user = await deps.users.getUser(record.userId);
      if (!user || user.status !== 'active') throw invalidGrant('the user is no longer active');
      // Disabled (or reset) and enabled again since the approval: the approval went with it.
      const stale = decisionProblem({ user, client }, { requestedAt: record.createdAt, decidedAt: record.decidedAt });
      if (stale) throw invalidGrant(`the approval no longer stands: ${stale}`);
      const action = record.authorizationDetails ?? undefined;
      // An action token (a per-action approval) is good for one call: no refresh token outlives it.
      const offline = !action && record.scopes.includes('offline_access') && client.grantTypes.includes('refresh_token');
      const grant = {
        id: newId('grt'),
        userId: user.id,
        clientId: client.clientId,
        actorId: null,
        scopes: record.scopes,
        resources: record.resources,
        authTime: record.decidedAt ?? now,
        amr: [],
        status: 'active' as const,
        createdAt: now,
        expiresAt: now + (offline ? deps.refreshTokenFamilyTtlSeconds : deps.maxAccessTokenTtlSeconds),
        revokedAt: null,
      };
      // The policies as they stand now (a scope denied since the approval refuses), then the approval is used up.
      const maxLifetimeSeconds = await policyLimitedLifetime(record, { grant, user, client }, deps, now);
      if (!(await deps.approvals.useApprovalRequest(record.id, now))) throw invalidGrant('auth_req_id was already used');
      await deps.grants.createGrant(grant);
      const issued = await issueUserTokens({ grant, user, client, scopes: record.scopes, resources: record.resources, nonce: null, dpopJkt, maxLifetimeSeconds, ...(action ? { authorizationDetails: action } : {}), now }, deps);
      return {
        response: issued.response,
        audit: {
          event: 'token.issued',
          actor: client.clientId,
          subject: user.id,
          clientId: client.clientId,
          detail: { grant_type: GRANT_TYPE_CIBA, grant_id: grant.id, approval_request: record.id, jti: issued.jti, scope: issued.response.scope ?? '', exp: issued.exp, refresh_hash: issued.refreshHash, ...(action ? { authorization_details: action } : {}) },
        },
        ...(issued.records ? { records: issued.records } : {}),
      };
    },
  };
}
