import type { ApprovalEventRequest } from '@mandate/protocol';
import { z } from 'zod';
import { approvalRequestFields } from '../policy/approval-request-fields.ts';
import { normalizeEmail } from '../users/email-address.ts';
import type { ApprovalRequestRecord, ApprovalRequestRecords, ClientRecords, SessionRecords, UserRecords } from '../store/store.ts';
import { parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/**
 * The approval queue (issue 12 item 2), as approvers see it through `/admin/v1/approvals`. A pending request past
 * its expiry reads as `expired` at once (reads never write; the delivery timer marks it: flows/approval-webhooks.ts).
 * The decider is whoever the request authenticated as, passed in by the caller: never a field of the body.
 */

export type ApprovalStore = ApprovalRequestRecords & Pick<SessionRecords, 'latestAuthTime'> & Pick<ClientRecords, 'getClient'> & Pick<UserRecords, 'getUser'>;

/** Who decides: the principal string recorded, and the user it is (null for an admin token of no user). */
export interface Decider {
  decider: string;
  deciderUserId: string | null;
  /**
   * The sign-in a critical decision is judged fresh by. A browser decision (console, /account) passes its own
   * session's `authTime`: another, newer session of the same user must not make a stolen older one fresh.
   * `'latest-sign-in'` is for an admin API token that speaks for a user (it has no session; the user's newest
   * sign-in counts).
   */
  signedInAt: number | null | 'latest-sign-in';
  /**
   * Set when the decider is the user the request is made for, deciding on /account because the policy names them
   * (management/own-approvals.ts); otherwise an approver may not decide a request of their own.
   */
  asRequestUser?: true;
}

/** The admin API's view of an approval request: what an approval event carries (protocol), and its use and ping log. */
export interface ApprovalView extends ApprovalEventRequest {
  used_at: number | null;
  /** CIBA ping mode (§10.2): the notification's delivery log, or null for a request nobody is pinged about. */
  ping: { status: NonNullable<ApprovalRequestRecord['pingStatus']>; attempts: number; next_attempt_at: number | null; last_result: string | null } | null;
}

export function approvalView(r: ApprovalRequestRecord, now: number): ApprovalView {
  return {
    ...approvalRequestFields(r, r.status === 'pending' && r.expiresAt <= now ? 'expired' : r.status),
    used_at: r.usedAt,
    ping: r.pingStatus ? { status: r.pingStatus, attempts: r.pingAttempts ?? 0, next_attempt_at: r.pingNextAttemptAt ?? null, last_result: r.pingLastResult ?? null } : null,
  };
}

const listSchema = z.object({ status: z.enum(['pending', 'approved', 'denied', 'expired']).optional() }).strict();

/**
 * Not `.strict()`: a body naming its own approver (`approver`, `decided_by`) is not refused but that field is
 * ignored; the decision is recorded for the authenticated principal only.
 */
const decisionSchema = z.object({ decision: z.enum(['approve', 'deny']), reason: z.string().trim().max(1000).optional() });

export async function listApprovals(query: unknown, deps: ManagementDeps<ApprovalStore>): Promise<ApprovalView[]> {
  const { status } = parseInput(listSchema, query ?? {});
  return (await deps.store.listApprovalRequests(status ? { status } : {}, deps.now)).map((r) => approvalView(r, deps.now));
}

export async function getApproval(id: string, deps: ManagementDeps<ApprovalStore>): Promise<ApprovalView> {
  const record = await deps.store.getApprovalRequest(id);
  if (!record) throw new ManagementError('not-found', `no approval request ${id}`);
  return approvalView(record, deps.now);
}

/**
 * A critical request is decided only by a user who signed in (password or passkey) within the freshness window
 * the passkey registration uses (`users.passkeyRegistrationMaxAuthAgeSeconds`): a stolen approver token alone does
 * not approve it.
 */
async function checkFreshSignIn(current: ApprovalView, deps: ManagementDeps<ApprovalStore> & Decider): Promise<void> {
  if (current.risk !== 'critical') return;
  const maxAge = deps.config.users.passkeyRegistrationMaxAuthAgeSeconds;
  if (!deps.deciderUserId) throw new ManagementError('forbidden', 'a critical request is decided by a user: use an admin token that speaks for one (admin-token create --user)');
  const authTime = deps.signedInAt === 'latest-sign-in' ? await deps.store.latestAuthTime(deps.deciderUserId, deps.now) : deps.signedInAt;
  if (authTime === null || deps.now - authTime > maxAge) {
    throw new ManagementError('forbidden', `a critical request needs a fresh sign-in: sign in again at /login, then decide within ${maxAge} seconds`);
  }
}

/**
 * Separation of duties: an approver does not decide a request made on their own behalf, nor one an agent or client
 * they own asks for (its owner e-mail is theirs). The user the policy names as approver decides on /account instead.
 */
async function checkNotOwnRequest(current: ApprovalView, deps: ManagementDeps<ApprovalStore> & Decider): Promise<void> {
  if (deps.asRequestUser || deps.deciderUserId === null) return;
  if (current.user_id === deps.deciderUserId) throw new ManagementError('forbidden', 'this request is made on your behalf: another approver decides it (or you, on /account, where its policy names you)');
  const email = (await deps.store.getUser(deps.deciderUserId))?.email ?? null;
  if (email === null) return;
  for (const clientId of new Set(current.chain)) {
    const owner = (await deps.store.getClient(clientId))?.owner;
    const normalized = owner ? normalizeEmail(owner) : null;
    if (normalized?.ok && normalized.email === email) throw new ManagementError('forbidden', `this request is made by ${clientId}, which you own: another approver decides it`);
  }
}

/** Approves or denies a pending request as `decider`; audited as `approval.approved` / `approval.denied`. */
export async function decideApproval(id: string, input: unknown, deps: ManagementDeps<ApprovalStore> & Decider): Promise<ApprovalView> {
  const parsed = parseInput(decisionSchema, input);
  const current = await getApproval(id, deps);
  await checkNotOwnRequest(current, deps);
  await checkFreshSignIn(current, deps);
  const status = parsed.decision === 'approve' ? 'approved' : 'denied';
  const reason = parsed.reason || null;
  if (!(await deps.store.decideApprovalRequest(id, { status, decidedBy: deps.decider, reason }, deps.now))) {
    const now = await getApproval(id, deps);
    throw new ManagementError('conflict', `approval request ${id} is ${now.status}: only a pending request can be decided`);
  }
  await deps.audit.record({
    event: `approval.${status}`,
    actor: deps.decider,
    subject: current.user_id ?? current.client_id,
    clientId: current.client_id,
    detail: { approval_request: id, scopes: current.scopes, resources: current.resources, risk: current.risk, reason, via: deps.actor, ...(current.authorization_details ? { authorization_details: current.authorization_details } : {}) },
  });
  return getApproval(id, deps);
}
