/** Failed-login counters, per account and per address. */
export interface LoginThrottleRecord {
  key: string;
  failures: number;
  lockedUntil: number;
  updatedAt: number;
}

export interface LoginThrottleRecords {
  getLoginThrottle(key: string): Promise<LoginThrottleRecord | null>;
  /**
   * Reads the counters of `keys` (a missing one as zero failures, `updatedAt` 0) and writes the records `decide`
   * returns, in one transaction that holds those rows: concurrent calls on a key see each other's writes, so a
   * login attempt is counted (or refused) before anything slow happens (SR-06). `decide` must be pure.
   */
  updateLoginThrottles<T>(keys: readonly string[], decide: (current: LoginThrottleRecord[]) => { write: LoginThrottleRecord[]; result: T }): Promise<T>;
  clearLoginFailures(key: string): Promise<void>;
}
