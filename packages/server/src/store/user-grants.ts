import type { McpToolAuthorizationDetail } from '@mandate/protocol';

export type UserGrantStatus = 'active' | 'revoked';

/**
 * What a user granted a client (and the agent it named) in one authorization: the root of an authorization code,
 * a refresh-token family and every access token derived from them (which carry its id as `gid`). Revoking it
 * makes all of those inactive at once.
 */
export interface UserGrantRecord {
  id: string;
  userId: string;
  clientId: string;
  actorId: string | null;
  scopes: string[];
  resources: string[];
  authTime: number;
  /** How the user authenticated for it (RFC 8176 values), as the ID tokens of the grant report them. */
  amr: string[];
  status: UserGrantStatus;
  createdAt: number;
  /** Absolute end of the refresh-token family. */
  expiresAt: number;
  revokedAt: number | null;
}

export interface AuthorizationCodeRecord {
  codeHash: string;
  grantId: string;
  redirectUri: string;
  /** The S256 `code_challenge`; the verifier itself is never stored. */
  codeChallenge: string;
  nonce: string | null;
  expiresAt: number;
  consumedAt: number | null;
  /** RFC 9449 §10 `dpop_jkt` of the authorization request: the code is redeemed only with a proof of that key. */
  dpopJkt?: string | null;
  /** RFC 9396: the one `mcp_tool` call the user approved (a pushed request's details); its tokens approve only it. */
  authorizationDetails?: McpToolAuthorizationDetail[] | null;
}

/** `redeemed`: this call consumed the code. `replayed`: it was consumed before (RFC 9700 §4.5: revoke the grant). */
export type CodeRedemption =
  | { status: 'redeemed'; code: AuthorizationCodeRecord; grant: UserGrantRecord }
  | { status: 'replayed'; grant: UserGrantRecord }
  | { status: 'unknown' };

export interface RefreshTokenRecord {
  tokenHash: string;
  grantId: string;
  status: 'active' | 'rotated';
  createdAt: number;
  expiresAt: number;
  /** RFC 9449 §5: a public client's refresh token is bound to its DPoP key (thumbprint), and stays so across rotations. */
  dpopJkt?: string | null;
}

export interface UserGrantRecords {
  /** Writes the grant and its authorization code in one transaction. */
  createGrantWithCode(grant: UserGrantRecord, code: AuthorizationCodeRecord): Promise<void>;
  /** Writes a grant that has no code (CIBA: the user approved out of band). */
  createGrant(grant: UserGrantRecord): Promise<void>;
  getGrant(id: string): Promise<UserGrantRecord | null>;
  listUserGrants(userId: string): Promise<UserGrantRecord[]>;
  /**
   * The newest `limit` grants of this user to this client for this agent (null: none) that are active and unexpired
   * at `now`, newest first (those of one second in any order): what an authorization request looks at for what was granted before.
   */
  listRecentGrants(userId: string, clientId: string, actorId: string | null, now: number, limit: number): Promise<UserGrantRecord[]>;
  /** Every grant still active and unexpired at `now`, of every user, newest first, at most `limit` (the console's list). */
  listActiveGrants(now: number, limit: number): Promise<UserGrantRecord[]>;
  /** Marks the grant revoked (and appends a revocation event naming it and its resources); false when it was unknown or revoked already. */
  revokeGrant(id: string, now: number): Promise<boolean>;
  /**
   * Revokes every active grant of a user, or every active grant a client or agent takes part in (as the client or
   * the named agent), atomically; returns the ids it revoked (and appends one revocation event naming them). A
   * disable and a password reset call it.
   */
  revokeGrantsOf(party: { userId: string } | { clientId: string }, now: number): Promise<string[]>;
  /**
   * Consumes the code atomically: exactly one concurrent caller gets `redeemed`, with its grant as it stood when the
   * code was consumed (so a concurrent replay's revocation, which can only follow, does not refuse the winner too).
   */
  redeemAuthorizationCode(codeHash: string, now: number): Promise<CodeRedemption>;
  createRefreshToken(record: RefreshTokenRecord): Promise<void>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /**
   * Marks `oldHash` rotated, in one statement: exactly one concurrent caller gets `rotated`. `reused` when it was
   * rotated already (by an earlier or a concurrent call): the caller must treat the family as stolen. Its successor
   * is written with the successor's audit row (`IssuedTokenRecords`).
   */
  retireRefreshToken(oldHash: string): Promise<'rotated' | 'reused' | 'unknown'>;
}
