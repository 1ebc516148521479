export type UserStatus = 'active' | 'disabled';

/** A person. Their id (`usr_…`) is the `sub` of the tokens issued for them; it never collides with an agent id. */
export interface UserRecord {
  id: string;
  /** Normalised (users/email-address.ts); null for an upstream account that shared no email. Unique. */
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** Versioned scrypt hash (`users/password.ts`); null for accounts without a password. */
  passwordHash: string | null;
  isAdmin: boolean;
  /** Roles a scope policy may require (`role_required`), e.g. `approver`. */
  roles: string[];
  status: UserStatus;
  /** Tokens whose `iat` is before this are inactive: set when the user is disabled. */
  tokensValidAfter: number;
  createdAt: number;
  updatedAt: number;
}

/** A user's account at an upstream OpenID provider, found by (issuer, subject). */
export interface UserIdentityRecord {
  issuer: string;
  subject: string;
  userId: string;
  providerId: string;
  email: string | null;
  createdAt: number;
}

export interface UserRecords {
  /** Throws StoreConflictError when the id or email exists. */
  createUser(record: UserRecord): Promise<void>;
  getUser(id: string): Promise<UserRecord | null>;
  /** `email` must already be normalised (users/email-address.ts). */
  getUserByEmail(email: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  updateUser(id: string, patch: Partial<Omit<UserRecord, 'id' | 'createdAt'>>): Promise<UserRecord | null>;
  /** Deletes the user (their grants go with them) and appends a cutoff event for their tokens; false when there was none. */
  deleteUser(id: string, now: number): Promise<boolean>;
  /** Creates the user and links the identity in one transaction (first login through an upstream provider). */
  createUserWithIdentity(user: UserRecord, identity: UserIdentityRecord): Promise<void>;
  /** Throws StoreConflictError when (issuer, subject) is linked already. */
  linkIdentity(record: UserIdentityRecord): Promise<void>;
  getIdentity(issuer: string, subject: string): Promise<UserIdentityRecord | null>;
  listIdentities(userId: string): Promise<UserIdentityRecord[]>;
}

/** A WebAuthn credential (passkey) registered by a user. */
export interface PasskeyRecord {
  /** base64url credential id. */
  credentialId: string;
  userId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface PasskeyRecords {
  createPasskey(record: PasskeyRecord): Promise<void>;
  getPasskey(credentialId: string): Promise<PasskeyRecord | null>;
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  recordPasskeyUse(credentialId: string, counter: number, usedAt: number): Promise<void>;
  deletePasskey(userId: string, credentialId: string): Promise<boolean>;
}
