export { MandateAdminClient } from './admin-client.ts';
export type { AgentChange, MandateAdminClientOptions, NewAgent, NewResource, ResourceChange } from './admin-client.ts';
export type { AdminAgent, AdminResource, AdminResourceScope } from '@mandate/protocol';
export { AdminRequestFailed, ApprovalWebhookInvalid } from '../errors.ts';
export { verifyApprovalWebhook, type ApprovalWebhookOptions, WEBHOOK_SIGNATURE_HEADER } from './approval-webhook.ts';
export type { ApprovalEvent, ApprovalEventKind, ApprovalEventRequest } from '@mandate/protocol';
