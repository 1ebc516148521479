/**
 * A pushed authorization request (RFC 9126): the parameters a client sent to the pushed authorization request
 * endpoint, validated, kept under the SHA-256 of the `request_uri` it was given. Taken exactly once, by the client
 * that pushed it, before it expires.
 */
export interface PushedAuthorizationRecord {
  /** Hex SHA-256 of the `request_uri` (`urn:ietf:params:oauth:request_uri:<random>`). */
  uriHash: string;
  clientId: string;
  /** The authorization request's parameters as a form string (client authentication removed, `client_id` set). */
  params: string;
  createdAt: number;
  expiresAt: number;
}

export interface PushedAuthorizationRecords {
  createPushedAuthorization(record: PushedAuthorizationRecord): Promise<void>;
  /**
   * Deletes and returns the request when `uriHash` names one `clientId` pushed that has not expired at `now`; null
   * otherwise (unknown, expired, taken before, or another client's, which is left in place).
   */
  takePushedAuthorization(uriHash: string, clientId: string, now: number): Promise<PushedAuthorizationRecord | null>;
}
