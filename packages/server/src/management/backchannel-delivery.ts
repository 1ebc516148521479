import { z } from 'zod';
import { webhookUrlProblem } from '../policy/revocation-webhook.ts';
import type { ClientRecord } from '../store/store.ts';
import type { ManagementDeps } from './management-deps.ts';
import { ManagementError } from './management-error.ts';

/**
 * OpenID CIBA Core 1.0 §4 client metadata, as agents and apps take it: `backchannel_token_delivery_mode` (`poll`,
 * the default, or `ping`) and `backchannel_client_notification_endpoint`, which ping requires. The endpoint obeys
 * the revocation webhooks' URL rule (https; http on a loopback host only in development) and is reached through
 * the same SSRF-checked request.
 */
export const backchannelDeliveryFields = {
  backchannel_token_delivery_mode: z.enum(['poll', 'ping']),
  backchannel_client_notification_endpoint: z.string().min(1).max(2000).nullable(),
};

export interface BackchannelDeliveryInput {
  backchannel_token_delivery_mode?: 'poll' | 'ping' | undefined;
  backchannel_client_notification_endpoint?: string | null | undefined;
}

/** The record fields for `input` over `current` (absent for a new client), or a refusal naming the field. */
export function backchannelDelivery(
  input: BackchannelDeliveryInput,
  current: Pick<ClientRecord, 'backchannelTokenDeliveryMode' | 'backchannelClientNotificationEndpoint'> | null,
  deps: Pick<ManagementDeps<unknown>, 'config'>,
): Pick<ClientRecord, 'backchannelTokenDeliveryMode' | 'backchannelClientNotificationEndpoint'> {
  const mode = input.backchannel_token_delivery_mode ?? current?.backchannelTokenDeliveryMode ?? 'poll';
  const endpoint = input.backchannel_client_notification_endpoint !== undefined ? input.backchannel_client_notification_endpoint : (current?.backchannelClientNotificationEndpoint ?? null);
  const refuse = (message: string): never => {
    throw new ManagementError('invalid-request', `backchannel_client_notification_endpoint ${message}`, [{ path: 'backchannel_client_notification_endpoint', message }]);
  };
  if (endpoint !== null) {
    const problem = webhookUrlProblem(endpoint, deps.config.revocationWebhookAllowHttpLocalhost);
    if (problem) refuse(problem);
  }
  if (mode === 'ping' && endpoint === null) refuse('is required with backchannel_token_delivery_mode ping (CIBA Core §4)');
  return { backchannelTokenDeliveryMode: mode, backchannelClientNotificationEndpoint: endpoint };
}
