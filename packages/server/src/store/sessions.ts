/**
 * A browser session, keyed by the SHA-256 of its cookie value. Anonymous (no user) until someone logs in; the
 * login replaces it with a new one (a new id) so a planted session id never becomes authenticated.
 */
export interface SessionRecord {
  idHash: string;
  userId: string | null;
  authTime: number | null;
  /** RFC 8176 authentication methods: `pwd`, `hwk`/`user` for passkeys, `fed` for upstream providers. */
  amr: string[];
  /** Pending WebAuthn challenge; single use (`takeSessionChallenge`). */
  challenge: string | null;
  challengeExpiresAt: number | null;
  createdAt: number;
  /** Absolute end (`users.sessionTtlSeconds` after the login). */
  expiresAt: number;
  /** When the session was last used (written at most once a minute): it ends after `users.sessionIdleTimeoutSeconds` without use. */
  lastSeenAt: number;
}

export interface SessionRecords {
  createSession(record: SessionRecord): Promise<void>;
  /** The session if it exists and has not expired at `now`. */
  getSession(idHash: string, now: number): Promise<SessionRecord | null>;
  setSessionChallenge(idHash: string, challenge: string, expiresAt: number): Promise<void>;
  /** Returns and clears the pending challenge atomically; null when none or expired. */
  takeSessionChallenge(idHash: string, now: number): Promise<string | null>;
  /** Records a use of the session (for its idle timeout). */
  touchSession(idHash: string, now: number): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  deleteUserSessions(userId: string): Promise<number>;
  /** When the user last signed in, over their unexpired sessions; null when none (a critical approval needs a fresh one). */
  latestAuthTime(userId: string, now: number): Promise<number | null>;
}

/** The `state` of a login through an upstream provider, bound to the browser session that started it. */
export interface UpstreamLoginStateRecord {
  stateHash: string;
  sessionHash: string;
  providerId: string;
  returnTo: string;
  expiresAt: number;
}

export interface UpstreamLoginStateRecords {
  createUpstreamLoginState(record: UpstreamLoginStateRecord): Promise<void>;
  /**
   * Deletes and returns the state (single use) if it belongs to the session `sessionHash`; null when unknown,
   * another session's (which leaves it in place: holding a state value cannot cancel someone's login, SR-22) or expired.
   */
  takeUpstreamLoginState(stateHash: string, sessionHash: string, now: number): Promise<UpstreamLoginStateRecord | null>;
}
