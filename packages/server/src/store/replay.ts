export interface ReplayRecords {
  /** Records `key` until `expiresAt`. True the first time, false while it is recorded and unexpired at `now` (a replay). */
  consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
}
