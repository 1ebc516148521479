import type { ClientRegistrationRecords } from '../store/client-registration.ts';
import type { ClientRecord, ClientRecords } from '../store/store.ts';
import { isMetadataDocumentUrl, type MetadataDocumentDeps, type MetadataDocumentFlow } from './client-metadata-document.ts';

/**
 * How the authorization endpoint finds a client (issue 9): a `client_id` that is a metadata-document URL is resolved
 * through its document (fetched when not fresh; `invalid_client` with the reason when unusable), and a dynamically
 * registered client that nobody used within `unusedClientTtlSeconds` is deleted rather than used, even when no new
 * registration has come to clear it. Every other client is the store's.
 */
export interface AuthorizationClientsDeps {
  clients: Pick<ClientRecords, 'getClient'>;
  registrations: Pick<ClientRegistrationRecords, 'getClientRegistration' | 'deleteUnusedRegisteredClients'>;
  documents: MetadataDocumentFlow | null;
  documentSettings: MetadataDocumentDeps['settings'];
  unusedClientTtlSeconds: number;
  now(): number;
}

export function authorizationClients(deps: AuthorizationClientsDeps): Pick<ClientRecords, 'getClient'> {
  return {
    async getClient(clientId: string): Promise<ClientRecord | null> {
      const now = deps.now();
      if (deps.documents && isMetadataDocumentUrl(clientId, deps.documentSettings)) return deps.documents.resolve(clientId, now);
      const client = await deps.clients.getClient(clientId);
      if (!client || client.createdAt >= now - deps.unusedClientTtlSeconds) return client;
      const registration = await deps.registrations.getClientRegistration(clientId);
      if (registration?.source !== 'dynamic') return client;
      const expired = await deps.registrations.deleteUnusedRegisteredClients(now - deps.unusedClientTtlSeconds);
      return expired.includes(clientId) ? null : client;
    },
  };
}
