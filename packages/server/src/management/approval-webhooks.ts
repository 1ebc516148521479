import { z } from 'zod';
import { encryptPrivateKey } from '../keys/kek.ts';
import { approvalWebhookSecretAad, webhookUrlProblem } from '../policy/revocation-webhook.ts';
import type { ApprovalWebhookDeliveryRecord, ApprovalWebhookRecord, ApprovalWebhookRecords } from '../store/store.ts';
import { generateSecret, newId } from '../tokens/secret.ts';
import { parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/**
 * Approval webhooks (issue 12 item 5), shared by `mandate approval-webhook …` and `/admin/v1/approval-webhooks`:
 * URLs an operator sets to hear of every approval request created, approved, denied or expired, as revocation
 * webhooks hear of revocations (the same URL rule, signature, retries and delivery log). The signing secret is
 * answered once, at creation, and stored encrypted under the webhook key (derived from the KEK): the server needs
 * it to sign.
 */

export type ApprovalWebhookStore = ApprovalWebhookRecords;

const createSchema = z.object({ url: z.string().min(1).max(2000) }).strict();

export interface ApprovalWebhookView {
  id: string;
  url: string;
  created_at: number;
}

export interface ApprovalDeliveryView {
  event_id: string;
  approval_id: string;
  event: ApprovalWebhookDeliveryRecord['event'];
  occurred_at: number;
  status: ApprovalWebhookDeliveryRecord['status'];
  attempts: number;
  next_attempt_at: number;
  last_result: string | null;
  updated_at: number;
}

const view = (w: ApprovalWebhookRecord): ApprovalWebhookView => ({ id: w.id, url: w.url, created_at: w.createdAt });

/** Adds a webhook; answers it with its signing secret, shown this once. Audited as `approval_webhook.created`. */
export async function createApprovalWebhook(input: unknown, deps: ManagementDeps<ApprovalWebhookStore>, secretKey: Buffer): Promise<ApprovalWebhookView & { secret: string }> {
  const { url } = parseInput(createSchema, input);
  const problem = webhookUrlProblem(url, deps.config.revocationWebhookAllowHttpLocalhost);
  if (problem) throw new ManagementError('invalid-request', `url ${problem}`, [{ path: 'url', message: problem }]);
  const id = newId('awh');
  const secret = generateSecret();
  const record: ApprovalWebhookRecord = { id, url, secretEncrypted: encryptPrivateKey(secretKey, approvalWebhookSecretAad(id), Buffer.from(secret, 'utf8')), createdAt: deps.now };
  await deps.store.createApprovalWebhook(record);
  await deps.audit.record({ event: 'approval_webhook.created', actor: deps.actor, subject: id, detail: { url } });
  return { ...view(record), secret };
}

export async function listApprovalWebhooks(deps: ManagementDeps<ApprovalWebhookStore>): Promise<ApprovalWebhookView[]> {
  return (await deps.store.listApprovalWebhooks()).map(view);
}

/** The webhook and its delivery log, newest first (at most 100). */
export async function getApprovalWebhook(id: string, deps: ManagementDeps<ApprovalWebhookStore>): Promise<ApprovalWebhookView & { deliveries: ApprovalDeliveryView[] }> {
  const webhook = await deps.store.getApprovalWebhook(id);
  if (!webhook) throw new ManagementError('not-found', `no approval webhook ${id}`);
  const deliveries = await deps.store.listApprovalDeliveries(id, 100);
  return {
    ...view(webhook),
    deliveries: deliveries.map((d) => ({
      event_id: `${d.approvalId}.${d.event}`,
      approval_id: d.approvalId,
      event: d.event,
      occurred_at: d.occurredAt,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: d.nextAttemptAt,
      last_result: d.lastResult,
      updated_at: d.updatedAt,
    })),
  };
}

/** Removes the webhook and its delivery log. Audited as `approval_webhook.deleted`. */
export async function deleteApprovalWebhook(id: string, deps: ManagementDeps<ApprovalWebhookStore>): Promise<void> {
  if (!(await deps.store.deleteApprovalWebhook(id))) throw new ManagementError('not-found', `no approval webhook ${id}`);
  await deps.audit.record({ event: 'approval_webhook.deleted', actor: deps.actor, subject: id, detail: {} });
}
