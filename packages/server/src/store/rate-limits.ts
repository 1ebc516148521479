export interface RateLimitRecords {
  /**
   * Adds each key's count to its counter for the minute starting at `windowStart` (epoch seconds) and returns every
   * given key's total over all instances. A key given with 0 only reads its total.
   */
  addRateLimitCounts(windowStart: number, counts: ReadonlyMap<string, number>): Promise<Map<string, number>>;
}
