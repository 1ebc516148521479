export { MandateAdminClient } from './admin-client.ts';
export type { AgentChange, MandateAdminClientOptions, NewAgent, NewResource, ResourceChange } from './admin-client.ts';
export type { AdminAgent, AdminResource, AdminResourceScope } from '@mandate/protocol';
export { AdminRequestFailed } from '../errors.ts';
