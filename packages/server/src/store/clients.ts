export type ClientKind = 'agent' | 'app';
export type ClientStatus = 'active' | 'disabled';
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** An OAuth client. Agents are clients of kind `agent`: their `clientId` is the agent id and the `sub` of their own tokens. */
export interface ClientRecord {
  clientId: string;
  kind: ClientKind;
  name: string;
  description: string | null;
  /** Email of the person who owns the agent or app. */
  owner: string | null;
  status: ClientStatus;
  allowedScopes: string[];
  /** What a request without `scope` asks for (policy/token-targets.ts); empty: the resource's defaults. */
  defaultScopes: string[];
  /** Canonical resource URIs the client may get tokens for (RFC 8707). */
  allowedAudiences: string[];
  /** May request Transaction Tokens (an agent as a workload of the trust domain). False when absent. */
  txnTokensAllowed?: boolean;
  /** Overrides the server default; never above `tokens.maxAccessTokenTtlSeconds`. */
  accessTokenTtlSeconds: number | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Hex SHA-256 of the current client secret; null for `private_key_jwt` and public clients. */
  secretHash: string | null;
  /** Hex SHA-256 of the secret before the last rotation, valid until `previousSecretExpiresAt`. */
  previousSecretHash: string | null;
  previousSecretExpiresAt: number | null;
  /** Public keys for `private_key_jwt` (a JWK Set). */
  jwks: { keys: Record<string, unknown>[] } | null;
  redirectUris: string[];
  grantTypes: string[];
  /** Tokens whose `iat` is before this are inactive: set when the client is disabled. */
  tokensValidAfter: number;
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: token requests without a DPoP proof are refused. False when absent. */
  dpopBoundAccessTokens?: boolean;
  /** RFC 9126 §6 `require_pushed_authorization_requests`: plain authorization requests are refused. False when absent. */
  requirePushedAuthorizationRequests?: boolean;
  /** OpenID CIBA Core 1.0 §4 `backchannel_token_delivery_mode`: how the client learns of a decision. Poll when absent. */
  backchannelTokenDeliveryMode?: 'poll' | 'ping' | null;
  /** CIBA §4 `backchannel_client_notification_endpoint`: where a `ping` client is notified. */
  backchannelClientNotificationEndpoint?: string | null;
  createdAt: number;
  updatedAt: number;
}

export type ClientPatch = Partial<Omit<ClientRecord, 'clientId' | 'kind' | 'createdAt'>>;

export interface ClientRecords {
  createClient(record: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | null>;
  listClients(filter?: { kind?: ClientKind }): Promise<ClientRecord[]>;
  /** Applies the patch and returns the updated record, or null when no such client exists. */
  updateClient(clientId: string, patch: ClientPatch): Promise<ClientRecord | null>;
  /** Deletes the client and appends a cutoff event for its tokens (issue 11 item 5); false when there was none. */
  deleteClient(clientId: string, now: number): Promise<boolean>;
}
