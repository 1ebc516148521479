import type { ClientRecord } from './clients.ts';

/**
 * How a self-registered client came to be (issue 9): by dynamic client registration (RFC 7591, managed with the
 * RFC 7592 registration access token) or from a Client ID Metadata Document fetched from its `client_id` URL.
 * Clients an operator created (CLI, admin API) have none. The record goes with its client.
 */
export type RegistrationSource = 'dynamic' | 'metadata_document';

export interface ClientRegistrationRecord {
  clientId: string;
  source: RegistrationSource;
  /** Hex SHA-256 of the RFC 7592 registration access token (dynamic registration only). */
  registrationTokenHash: string | null;
  /** The client metadata as registered or fetched (RFC 7591 names), for display and RFC 7592 reads. */
  metadata: Record<string, unknown>;
  /** A metadata document is fetched again after this (its Cache-Control within the configured bounds). */
  documentExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface ClientRegistrationRecords {
  /** Writes the client and its registration in one transaction. */
  createRegisteredClient(client: ClientRecord, registration: ClientRegistrationRecord): Promise<void>;
  getClientRegistration(clientId: string): Promise<ClientRegistrationRecord | null>;
  /** The distinct names of the clients an operator created (those without a registration): what look-alikes imitate. */
  listVouchedClientNames(): Promise<string[]>;
  /**
   * Stores a freshly fetched metadata document's client, in one transaction: inserted when new; otherwise its
   * registered fields replaced, keeping the client's status, `tokensValidAfter` and creation time (an operator's
   * disable stands). Returns the stored client.
   */
  saveMetadataDocumentClient(client: ClientRecord, registration: ClientRegistrationRecord): Promise<ClientRecord>;
  /** Replaces a dynamic client's registered fields and metadata (RFC 7592 update), in one transaction. */
  updateRegisteredClient(clientId: string, client: Partial<ClientRecord>, registration: Pick<ClientRegistrationRecord, 'metadata' | 'updatedAt'>): Promise<ClientRecord | null>;
  /**
   * Deletes dynamically registered clients created before `createdBefore` that nobody holds a user grant for (never
   * used, or every grant of theirs ended and was purged); returns their ids.
   */
  deleteUnusedRegisteredClients(createdBefore: number): Promise<string[]>;
}
