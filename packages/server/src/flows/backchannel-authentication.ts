import type { AuditLog } from '../audit/audit-log.ts';
import type { FormParams } from '../oauth/form-params.ts';
import { invalidRequest, OAuthError } from '../oauth/oauth-error.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import { invalidAuthorizationDetails, parseAuthorizationDetails } from '../oauth/authorization-details.ts';
import { actionResource, decideActionApproval, higherRisk } from '../policy/action-approval.ts';
import { decideScopes, highestRisk } from '../policy/scope-policy.ts';
import type { ApprovalRequestRecords, ClientRecord, ResourceRecords, ToolPolicyRecords, UserRecords } from '../store/store.ts';
import { generateSecret, hashSecret, newId } from '../tokens/secret.ts';
import { normalizeEmail } from '../users/email-address.ts';
import { decideAuthorizationTargets } from './authorization-request.ts';
import { sealCibaPing } from './ciba-ping.ts';

/**
 * OpenID CIBA Core 1.0 §7 (issue 12 item 3): a client asks for a user's authorization out of band. The request
 * joins the approval queue (item 2) as a pending approval request for that user, which an approver decides through
 * `/admin/v1/approvals`; the client polls the token endpoint with the `auth_req_id` (grants/ciba.ts), in ping mode
 * once the server notified it of the decision (flows/ciba-ping.ts).
 */

/** §7.3 `interval`: the minimum seconds between polls. */
export const CIBA_POLL_INTERVAL_SECONDS = 5;
const DEFAULT_EXPIRY_SECONDS = 300;
const MAX_EXPIRY_SECONDS = 900;

export interface BackchannelDeps {
  users: Pick<UserRecords, 'getUser' | 'getUserByEmail'>;
  /** The resources, and which of their tools take per-action approvals (RFC 9396 `mcp_tool`, issue 12 item 4). */
  resources: Pick<ResourceRecords, 'listResources'> & Pick<ToolPolicyRecords, 'getToolPolicy'>;
  approvals: Pick<ApprovalRequestRecords, 'createApprovalRequest'>;
  audit: Pick<AuditLog, 'record'>;
  /** The key a ping client's notification is sealed under (flows/ciba-ping.ts). */
  pingSealKey: Buffer;
}

export interface BackchannelResponse {
  auth_req_id: string;
  expires_in: number;
  interval: number;
}

/** §7.1 `binding_message`: short, printable, shown to whoever approves (and to the user on the client's side). */
function bindingMessage(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.length === 0 || value.length > 100 || /[\u0000-\u001f\u007f]/.test(value)) throw new OAuthError('invalid_binding_message', 'binding_message must be 1–100 printable characters');
  return value;
}

/**
 * §7.1 `client_notification_token`: required of a ping client (a bearer token of its own, which the ping carries
 * back), at most 1024 characters of RFC 6750 `b64token` syntax; ignored from a poll client, which gets no ping.
 */
function notificationToken(client: ClientRecord, value: string | undefined): string | null {
  if (client.backchannelTokenDeliveryMode !== 'ping') return null;
  if (value === undefined) throw invalidRequest('client_notification_token is required: the client is registered for ping mode');
  if (value.length > 1024 || !/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) throw invalidRequest('client_notification_token must be a bearer token (RFC 6750 b64token) of at most 1024 characters');
  return value;
}

function requestedExpiry(value: string | undefined): number {
  if (value === undefined) return DEFAULT_EXPIRY_SECONDS;
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1) throw invalidRequest('requested_expiry must be a positive whole number of seconds');
  return Math.min(Number(value), MAX_EXPIRY_SECONDS);
}

export function backchannelAuthenticationFlow(deps: BackchannelDeps) {
  async function findUser(hint: string) {
    const email = normalizeEmail(hint);
    const user = (await deps.users.getUser(hint)) ?? (email.ok ? await deps.users.getUserByEmail(email.email) : null);
    // §13: the hint names no (active) user.
    if (!user || user.status !== 'active') throw new OAuthError('unknown_user_id', 'login_hint names no active user');
    return user;
  }

  return {
    async authenticate(client: ClientRecord, params: FormParams, ip: string, now: number): Promise<BackchannelResponse> {
      // §7.1: scope is required and a CIBA request is an OpenID request.
      const scopes = parseScope(params.get('scope'));
      if (!scopes || !scopes.includes('openid')) throw new OAuthError('invalid_scope', 'scope must include openid (CIBA Core §7.1)');
      // §7.1 and CIBA-01: exactly one hint.
      const hints = ['login_hint', 'id_token_hint', 'login_hint_token'].filter((name) => params.get(name) !== undefined);
      if (hints.length !== 1) throw invalidRequest('exactly one of login_hint, id_token_hint and login_hint_token is required');
      if (hints[0] !== 'login_hint') throw invalidRequest(`${hints[0]} is not supported: use login_hint (an e-mail address or user id)`);
      if (params.get('user_code') !== undefined) throw invalidRequest('user_code is not supported (backchannel_user_code_parameter_supported is false)');
      // RFC 9396 §3 (and CIBA Core §7.1): one mcp_tool call to approve; its location is the token's one resource.
      const requested = parseAuthorizationDetails(params.get('authorization_details'));
      let resources = parseResourceParameters(params);
      if (requested) {
        const located = actionResource(requested[0]!, resources);
        if (!located.ok) throw invalidAuthorizationDetails(located.description);
        resources = [located.resource];
      }
      const message = bindingMessage(params.get('binding_message'));
      const expiry = requestedExpiry(params.get('requested_expiry'));
      const pingToken = notificationToken(client, params.get('client_notification_token'));
      const pingEndpoint = client.backchannelClientNotificationEndpoint ?? null;
      if (pingToken !== null && pingEndpoint === null) throw new OAuthError('unauthorized_client', 'the client is registered for ping mode without a backchannel_client_notification_endpoint');
      const user = await findUser(params.required('login_hint'));

      const registered = new Map((await deps.resources.listResources()).map((r) => [r.uri, r]));
      const targets = decideAuthorizationTargets(client, null, { resources, scopes }, registered);
      if (!targets.ok) throw new OAuthError(targets.error, targets.description);
      let risk = highestRisk(targets.scopes, targets.resources, registered);
      let authorizationDetails = null;
      if (requested) {
        const resource = registered.get(resources[0]!);
        if (!resource) throw invalidAuthorizationDetails(`no resource server ${resources[0]} is registered`);
        const action = decideActionApproval(requested[0]!, resource.uri, await deps.resources.getToolPolicy(resource.id, requested[0]!.tool));
        if (!action.ok) throw invalidAuthorizationDetails(action.description);
        authorizationDetails = [action.detail];
        risk = higherRisk(risk, action.risk);
      }
      // The scope policies still refuse (deny, a role, a condition); everything else is the approver's to decide.
      const policies = await decideScopes({
        flow: 'authorization_request',
        scopes: targets.scopes,
        resources: targets.resources,
        registered,
        parties: [client.clientId],
        userRoles: async () => user.roles,
        chainDepth: 0,
        now,
      });
      if (!policies.ok && policies.reason === 'denied') throw new OAuthError('access_denied', policies.description);

      const authReqId = generateSecret();
      const id = newId('apr');
      await deps.approvals.createApprovalRequest({
        id,
        status: 'pending',
        clientId: client.clientId,
        chain: [client.clientId],
        userId: user.id,
        scopes: targets.scopes,
        resources: targets.resources,
        justification: message,
        risk,
        authorizationDetails,
        requestKey: `ciba:${id}`,
        createdAt: now,
        expiresAt: now + expiry,
        decidedBy: null,
        decidedAt: null,
        reason: null,
        usedAt: null,
        authReqHash: hashSecret(authReqId),
        pollInterval: CIBA_POLL_INTERVAL_SECONDS,
        lastPolledAt: null,
        ...(pingToken !== null && pingEndpoint !== null
          ? { pingSealed: sealCibaPing(deps.pingSealKey, id, { endpoint: pingEndpoint, authReqId, clientNotificationToken: pingToken }), pingStatus: 'waiting' as const, pingAttempts: 0, pingNextAttemptAt: null, pingLastResult: null }
          : {}),
      });
      await deps.audit.record({
        event: 'ciba.requested',
        actor: client.clientId,
        subject: user.id,
        clientId: client.clientId,
        ip,
        detail: { approval_request: id, scope: targets.scopes.join(' '), resources: targets.resources, binding_message: message, expires_in: expiry, delivery: pingToken !== null ? 'ping' : 'poll' },
      });
      return { auth_req_id: authReqId, expires_in: expiry, interval: CIBA_POLL_INTERVAL_SECONDS };
    },
  };
}

export type BackchannelAuthenticationFlow = ReturnType<typeof backchannelAuthenticationFlow>;
