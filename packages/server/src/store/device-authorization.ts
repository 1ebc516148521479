/**
 * An RFC 8628 device authorization request: made by a client at the device authorization endpoint, decided once by a
 * signed-in user on the verification page (who enters the user code), redeemed once by the client polling the token
 * endpoint with the device code. Both codes are stored as hashes only.
 */
export interface DeviceAuthorizationRecord {
  id: string;
  /** Hex SHA-256 of the device code. */
  deviceCodeHash: string;
  /** Hex SHA-256 of the normalised user code (upper case, without its dash). */
  userCodeHash: string;
  clientId: string;
  scopes: string[];
  resources: string[];
  status: 'pending' | 'approved' | 'denied';
  /** The user who decided, when and how they signed in (carried into the grant and its ID tokens). */
  userId: string | null;
  authTime: number | null;
  amr: string[] | null;
  /** Why it was denied (the user, or a scope policy), shown in `access_denied`'s description. */
  reason: string | null;
  /** Seconds the client must wait between polls (RFC 8628 §3.5: +5 after each `slow_down`). */
  pollInterval: number;
  lastPolledAt: number | null;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  usedAt: number | null;
}

/** What a poll found: the request as it stood before this poll, and whether the poll came too soon. */
export interface DevicePoll {
  record: DeviceAuthorizationRecord;
  /** The poll came sooner than `record.pollInterval` after the last one: the interval grew by `slowDownSeconds`. */
  tooSoon: boolean;
}

export interface DeviceAuthorizationRecords {
  /** Throws StoreConflictError when the user code's hash is taken (the caller draws another). */
  createDeviceAuthorization(record: DeviceAuthorizationRecord): Promise<void>;
  getDeviceAuthorizationByUserCode(userCodeHash: string): Promise<DeviceAuthorizationRecord | null>;
  /**
   * Records `clientId`'s poll of a pending request atomically (two concurrent polls cannot both pass as on time):
   * sets `lastPolledAt`, and grows the interval by `slowDownSeconds` when the poll came too soon. A request no
   * longer pending, or another client's, is returned unchanged. Null for an unknown device code.
   */
  pollDeviceAuthorization(deviceCodeHash: string, clientId: string, now: number, slowDownSeconds: number): Promise<DevicePoll | null>;
  /**
   * Decides a pending, unexpired request once (approve or deny, by `userId`); false when it was decided before,
   * expired, or is unknown.
   */
  decideDeviceAuthorization(id: string, decision: { status: 'approved' | 'denied'; userId: string; authTime: number; amr: string[]; reason: string | null; scopes: string[]; resources: string[] }, now: number): Promise<boolean>;
  /** Marks an approved request used, exactly once among concurrent callers; false when it was used before. */
  useDeviceAuthorization(id: string, now: number): Promise<boolean>;
}
