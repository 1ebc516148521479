import { userMayDecide } from '../policy/approval-decider.ts';
import type { ResourceRecords } from '../store/store.ts';
import { type ApprovalStore, type ApprovalView, approvalView, decideApproval, getApproval } from './approvals.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/**
 * Self-service (issue 12 item 8): the approval requests made on a user's behalf, and the user's own decision on
 * those the scope policies leave to them (policy/approval-decider.ts). The decider is the signed-in user, passed
 * in by the caller from the session, never a form field.
 */

export type OwnApprovalStore = ApprovalStore & Pick<ResourceRecords, 'listResources'>;

export interface OwnApprovalView extends ApprovalView {
  /** Whether this user may approve or deny it here; otherwise why not (an approver decides). */
  user_may_decide: boolean;
  decided_elsewhere_reason: string | null;
}

async function withDecider(views: ApprovalView[], deps: ManagementDeps<OwnApprovalStore>): Promise<OwnApprovalView[]> {
  const registered = new Map((await deps.store.listResources()).map((r) => [r.uri, r]));
  return views.map((view) => {
    const verdict = userMayDecide({ userId: view.user_id, scopes: view.scopes, resources: view.resources, authorizationDetails: view.authorization_details }, registered);
    return { ...view, user_may_decide: verdict.ok, decided_elsewhere_reason: verdict.ok ? null : verdict.why };
  });
}

/** The user's requests: pending ones first, then the latest decided, at most 50. */
export async function listApprovalsAbout(userId: string, deps: ManagementDeps<OwnApprovalStore>): Promise<OwnApprovalView[]> {
  // Queried by user: every user's newest 500 filtered here would lose this user's requests behind others' newer ones.
  const mine = (await deps.store.listApprovalRequests({ userId }, deps.now)).map((r) => approvalView(r, deps.now));
  const pending = mine.filter((a) => a.status === 'pending');
  const rest = mine.filter((a) => a.status !== 'pending').slice(0, Math.max(0, 50 - pending.length));
  return withDecider([...pending, ...rest], deps);
}

/**
 * The user approves or denies a request made on their behalf, where the policy lets them; audited as the decision.
 * `sessionAuthTime` is the deciding browser session's sign-in (a critical request needs that one fresh).
 */
export async function decideOwnApproval(id: string, input: unknown, deps: ManagementDeps<OwnApprovalStore> & { userId: string; sessionAuthTime: number | null }): Promise<ApprovalView> {
  const current = await getApproval(id, deps);
  if (current.user_id !== deps.userId) throw new ManagementError('not-found', `no approval request ${id} of yours`);
  const [view] = await withDecider([current], deps);
  if (!view!.user_may_decide) throw new ManagementError('forbidden', `${view!.decided_elsewhere_reason}`);
  return decideApproval(id, input, { ...deps, decider: deps.userId, deciderUserId: deps.userId, signedInAt: deps.sessionAuthTime, asRequestUser: true });
}
