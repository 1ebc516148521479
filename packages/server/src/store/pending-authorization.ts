import type { McpToolAuthorizationDetail } from '@mandate/protocol';

/**
 * An authorization request waiting for the user's consent (RFC 6749 §4.1.1, after validation). The consent page
 * carries only a random id; the request itself stays here, bound to the browser session that saw the page, and is
 * taken exactly once: approving, denying, or a replay of either, all find it gone afterwards.
 */
export interface PendingAuthorizationRecord {
  /** Hex SHA-256 of the id the consent page carries. */
  idHash: string;
  /** The browser session (its id hash) the page was shown to; another session cannot take it. */
  sessionHash: string;
  clientId: string;
  /** The agent named by `requested_actor`, if any. */
  actorId: string | null;
  /** The redirect URI as presented (verified against the client's registration). */
  redirectUri: string;
  state: string | null;
  /** The S256 `code_challenge`. */
  codeChallenge: string;
  nonce: string | null;
  /** What the consent page showed: exactly what approval grants. */
  scopes: string[];
  resources: string[];
  /** RFC 9449 §10 `dpop_jkt`, carried to the code. */
  dpopJkt?: string | null;
  /** RFC 9396: the one `mcp_tool` call asked for (a pushed request's details), carried to the code. */
  authorizationDetails?: McpToolAuthorizationDetail[] | null;
  createdAt: number;
  expiresAt: number;
}

export interface PendingAuthorizationRecords {
  createPendingAuthorization(record: PendingAuthorizationRecord): Promise<void>;
  /**
   * Deletes and returns the request when `idHash` names one of `sessionHash`'s that has not expired at `now`;
   * null otherwise (unknown, expired, taken before, or another session's, which is left in place).
   */
  takePendingAuthorization(idHash: string, sessionHash: string, now: number): Promise<PendingAuthorizationRecord | null>;
}
