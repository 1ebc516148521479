import { z } from 'zod';
import { encryptPrivateKey } from '../keys/kek.ts';
import { webhookSecretAad, webhookUrlProblem } from '../policy/revocation-webhook.ts';
import type { ResourceRecords, RevocationEventRecords, RevocationWebhookRecords, WebhookDeliveryRecord } from '../store/store.ts';
import { generateSecret } from '../tokens/secret.ts';
import { parseInput } from './input.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';
import { existingResource } from './resources.ts';

export type RevocationWebhookStore = Pick<ResourceRecords, 'listResources'> & RevocationWebhookRecords & Pick<RevocationEventRecords, 'lastRevocationEventId'>;

const setSchema = z.object({ url: z.string().min(1).max(2000) }).strict();

export interface RevocationWebhookView {
  resource: string;
  url: string;
  created_at: number;
  deliveries: { event_id: string; status: WebhookDeliveryRecord['status']; attempts: number; next_attempt_at: number; last_result: string | null; updated_at: number }[];
}

/**
 * Sets a resource's revocation webhook (issue 11 item 3) and returns its new signing secret, shown once: events
 * from now on are POSTed to `url`, signed with it. The secret is stored encrypted under the webhook key (derived
 * from the KEK), since the server needs it to sign; setting the webhook again makes a new secret.
 */
export async function setRevocationWebhook(idOrUri: string, input: unknown, deps: ManagementDeps<RevocationWebhookStore>, secretKey: Buffer): Promise<{ url: string; secret: string }> {
  const { url } = parseInput(setSchema, input);
  const problem = webhookUrlProblem(url, deps.config.revocationWebhookAllowHttpLocalhost);
  if (problem) throw new ManagementError('invalid-request', `url ${problem}`, [{ path: 'url', message: problem }]);
  const resource = await existingResource(deps, idOrUri);
  const secret = generateSecret();
  const current = await deps.store.getRevocationWebhook(resource.id);
  await deps.store.setRevocationWebhook({
    resourceId: resource.id,
    url,
    secretEncrypted: encryptPrivateKey(secretKey, webhookSecretAad(resource.id), Buffer.from(secret, 'utf8')),
    lastEventId: current?.lastEventId ?? (await deps.store.lastRevocationEventId()),
    createdAt: current?.createdAt ?? deps.now,
  });
  await deps.audit.record({ event: 'resource.webhook_set', actor: deps.actor, subject: resource.uri, detail: { id: resource.id, url } });
  return { url, secret };
}

/** The webhook and its delivery log (newest first). */
export async function getRevocationWebhook(idOrUri: string, deps: ManagementDeps<RevocationWebhookStore>): Promise<RevocationWebhookView> {
  const resource = await existingResource(deps, idOrUri);
  const webhook = await deps.store.getRevocationWebhook(resource.id);
  if (!webhook) throw new ManagementError('not-found', `resource ${resource.uri} has no revocation webhook`);
  const deliveries = await deps.store.listWebhookDeliveries(resource.id, 100);
  return {
    resource: resource.uri,
    url: webhook.url,
    created_at: webhook.createdAt,
    deliveries: deliveries.map((d) => ({ event_id: String(d.eventId), status: d.status, attempts: d.attempts, next_attempt_at: d.nextAttemptAt, last_result: d.lastResult, updated_at: d.updatedAt })),
  };
}

export async function deleteRevocationWebhook(idOrUri: string, deps: ManagementDeps<RevocationWebhookStore>): Promise<void> {
  const resource = await existingResource(deps, idOrUri);
  if (!(await deps.store.deleteRevocationWebhook(resource.id))) throw new ManagementError('not-found', `resource ${resource.uri} has no revocation webhook`);
  await deps.audit.record({ event: 'resource.webhook_deleted', actor: deps.actor, subject: resource.uri, detail: { id: resource.id } });
}
