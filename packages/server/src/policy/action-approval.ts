import { type AccessTokenClaims, type McpToolAuthorizationDetail, mcpToolDetails } from '@mandate/protocol';
import type { RequestedMcpToolDetail } from '../oauth/authorization-details.ts';
import type { ScopeRisk, ToolPolicyRecord } from '../store/store.ts';

/**
 * Per-action approvals (issue 12 item 4), as pure decisions: where an `mcp_tool` detail's call is made, and
 * whether that resource's tool takes per-action approvals. A tool does when an operator marked it so
 * (`mandate resource tool`, `PUT /admin/v1/resources/{id}/tools/{tool}`); any other is refused, so an approval
 * can never be asked for (and an approver never shown) a tool its server does not check.
 */

/** How long a token approved for one action lives, at most: long enough to make the call, no longer. */
export const ACTION_TOKEN_MAX_TTL_SECONDS = 300;

export type ActionDecision<T> = { ok: true } & T | { ok: false; description: string };

/**
 * The resource the call is made at: the detail's `locations`, which must be among the request's `resource`s when
 * it names any; without `locations`, the request's one resource.
 */
export function actionResource(detail: RequestedMcpToolDetail, requestedResources: readonly string[]): ActionDecision<{ resource: string }> {
  const location = detail.locations?.[0];
  if (location !== undefined) {
    if (requestedResources.length > 0 && !requestedResources.includes(location)) {
      return { ok: false, description: `authorization_details locations ${location} is not among the requested resources` };
    }
    return { ok: true, resource: location };
  }
  if (requestedResources.length !== 1) return { ok: false, description: 'an mcp_tool detail without locations needs exactly one resource parameter' };
  return { ok: true, resource: requestedResources[0]! };
}

/** The detail as approved (its location filled in) and the risk approvers see, or why no approval may be asked. */
export function decideActionApproval(
  detail: RequestedMcpToolDetail,
  resource: string,
  toolPolicy: ToolPolicyRecord | null,
): ActionDecision<{ detail: McpToolAuthorizationDetail; risk: ScopeRisk }> {
  if (!toolPolicy?.perActionApproval) {
    return { ok: false, description: `tool ${detail.tool} at ${resource} does not take per-action approvals (an operator marks it: mandate resource tool)` };
  }
  return { ok: true, detail: { ...detail, locations: [resource] }, risk: toolPolicy.risk };
}

const RISKS: readonly ScopeRisk[] = ['low', 'medium', 'high', 'critical'];

/** The higher of two risks. */
export const higherRisk = (a: ScopeRisk, b: ScopeRisk): ScopeRisk => (RISKS.indexOf(a) >= RISKS.indexOf(b) ? a : b);

/**
 * A token approved for one action (it carries an `mcp_tool` detail) is good for that call only: exchanged, it would
 * become a general token for its scopes, so a token exchange refuses it as its subject.
 */
export const isActionToken = (claims: Pick<AccessTokenClaims, 'authorization_details'>): boolean => mcpToolDetails(claims.authorization_details).length > 0;

export const ACTION_TOKEN_NOT_EXCHANGED = 'subject_token is an action token (RFC 9396 mcp_tool): it is good for its one tool call and is never exchanged';
