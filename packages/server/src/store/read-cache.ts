import type { Store } from './store.ts';

/**
 * Keeps the records the hot paths read on every request (the client, the resource, whether a token id is revoked)
 * in memory, without ever serving a stale one:
 * - any write through this store clears the cache (every method that is not a read — `get…`, `list…`, `is…` —
 *   or listed as unrelated counts as a write);
 * - a write by another process or instance is seen by the database's version (CacheVersion), which is checked once
 *   per event-loop turn, before the turn's first cached read. Every request served in a turn was already received
 *   when the turn began, so none of them started after a commit it does not see: SQLite's `data_version` changes
 *   with any other connection's commit (the CLI); on PostgreSQL every instance's writes through this store advance a
 *   shared sequence after they commit (a client disabled on one instance is refused by the next request to another).
 */

/** How the cache learns that someone else wrote. */
export interface CacheVersion {
  /** The database's version now: a number, or (PostgreSQL) a promise of one, a round trip shared by a turn's reads. */
  read(): number | Promise<number>;
  /** After a write of ours has committed: the version that includes it (PostgreSQL advances the shared one). */
  afterWrite(): number | Promise<number>;
}

/**
 * Reads answered from the cache, by method name: each takes string arguments (none for the list of resources, which
 * every authorization request reads).
 */
const CACHED = new Set(['getClient', 'getResourceByUri', 'getResourceByApiKeyId', 'isTokenIdRevoked', 'getGrant', 'getUser', 'getDelegationPolicy', 'listResources']);
/**
 * Writes that touch none of the cached rows, so they need not clear it. `recordDerivation` revokes only the token
 * being derived, whose id nothing has read yet; `recordTransactionToken` writes a row of its own table; the code's
 * redemption, refresh tokens and a session's last use touch tables of their own (the code and refresh flows' writes). The revocation event log's reader and its listener, and the webhook delivery queues (revocation and approval; expiring and polling approval requests; CIBA pings), touch none either.
 * Every instance claims due CIBA pings each poll interval: as a write, that claim emptied every instance's cache
 * once per interval per instance, found or not.
 */
const UNRELATED = new Set(['redeemAuthorizationCode', 'createRefreshToken', 'retireRefreshToken', 'touchSession', 'appendAuditRows', 'appendAuditRowsAfter', 'auditChainState', 'consumeOnce', 'createPendingAuthorization', 'takePendingAuthorization', 'recordDerivation', 'recordTransactionToken', 'addRateLimitCounts', 'pruneAuditRows', 'auditCheckpoint', 'lastRevocationEventId', 'onRevocationEvent', 'onApprovalEvent', 'enqueueWebhookDeliveries', 'claimDueWebhookDeliveries', 'recordWebhookAttempt', 'expireApprovalRequests', 'pollApprovalRequest', 'claimDueApprovalDeliveries', 'recordApprovalDeliveryAttempt', 'claimDueCibaPings', 'recordCibaPingAttempt', 'ping', 'close']);
/**
 * Writes that only add a record under a new key: they drop that key's entry (a miss read before, cached as null)
 * rather than the whole cache, so the code flow's grant does not make every request after it read its client again.
 */
const ADDS_RECORD: Record<string, (args: unknown[]) => string> = {
  createGrantWithCode: (args) => cacheKeyOf('getGrant', (args[0] as { id: string }).id),
  createGrant: (args) => cacheKeyOf('getGrant', (args[0] as { id: string }).id),
};
const cacheKeyOf = (name: string, ...args: readonly string[]) => [name, ...args].join('\u0000');
const READ = /^(get|list|is)[A-Z]/;
const GENERATION = Symbol('read cache generation');

/**
 * The read cache's generation, after this turn's version check (so a commit by another process or instance counts):
 * a number that changes whenever the cache is cleared or an entry dropped. While it stays the same, every cached read
 * answers as it did, so a result computed from cached reads alone (introspection's lifecycle decision) may be reused.
 * Undefined for a store without the read cache (then nothing may be reused).
 */
export function readCacheGeneration(store: object): (() => number | Promise<number>) | undefined {
  const read = (store as { [GENERATION]?: unknown })[GENERATION];
  return typeof read === 'function' ? (read as () => number | Promise<number>) : undefined;
}
const MAX_ENTRIES = 10_000;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export function withReadCache(store: Store, version: CacheVersion, seen: number): Store {
  const cache = new Map<string, unknown>();
  let seenVersion = seen;
  /** Advanced at every clear: a read that started before one must not store what it read (it may be stale). */
  let generation = 0;
  const clear = () => {
    cache.clear();
    generation += 1;
  };
  const wrappers = new Map<PropertyKey, unknown>();

  let checkedThisTurn: Promise<void> | true | null = null;
  const compare = (now: number) => {
    if (now !== seenVersion) {
      clear();
      seenVersion = now;
    }
  };
  /** Once per turn: the version, compared with the one seen (synchronous on SQLite, one query on PostgreSQL). */
  const checkVersion = (): Promise<void> | true => {
    if (checkedThisTurn !== null) return checkedThisTurn;
    setImmediate(() => (checkedThisTurn = null));
    const now = version.read();
    if (typeof now === 'number') {
      compare(now);
      return (checkedThisTurn = true);
    }
    return (checkedThisTurn = now.then(compare));
  };

  const cachedRead = (name: string, read: (...args: string[]) => Promise<unknown>) => async (...args: string[]) => {
    const checked = checkVersion();
    if (checked !== true) await checked;
    const cacheKey = cacheKeyOf(name, ...args);
    const hit = cache.get(cacheKey);
    if (hit !== undefined || cache.has(cacheKey)) return hit;
    const startedAt = generation;
    // Frozen, because every caller now shares the object: a mutation would throw rather than corrupt the cache.
    const value = deepFreeze(await read(...args));
    if (generation !== startedAt) return value;
    if (cache.size >= MAX_ENTRIES) clear();
    cache.set(cacheKey, value);
    return value;
  };

  const write = (method: (...args: unknown[]) => Promise<unknown>) => async (...args: unknown[]) => {
    try {
      return await method(...args);
    } finally {
      clear();
      // Committed (or failed): the version that includes it. If PostgreSQL cannot advance it, the write's caller
      // hears so (another instance might still serve what this write changed).
      const now = version.afterWrite();
      seenVersion = typeof now === 'number' ? now : await now;
      clear();
    }
  };

  const add = (method: (...args: unknown[]) => Promise<unknown>, keyOf: (args: unknown[]) => string) => async (...args: unknown[]) => {
    try {
      return await method(...args);
    } finally {
      cache.delete(keyOf(args));
      generation += 1;
    }
  };

  const generationNow = (): number | Promise<number> => {
    const checked = checkVersion();
    return checked === true ? generation : checked.then(() => generation);
  };

  return new Proxy(store, {
    get(target, name, receiver) {
      if (name === GENERATION) return generationNow;
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string' || UNRELATED.has(name)) return value;
      if (READ.test(name) && !CACHED.has(name)) return value;
      let wrapper = wrappers.get(name);
      if (!wrapper) {
        const method = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
        const keyOf = ADDS_RECORD[name];
        wrapper = CACHED.has(name) ? cachedRead(name, method as (...args: string[]) => Promise<unknown>) : keyOf ? add(method, keyOf) : write(method);
        wrappers.set(name, wrapper);
      }
      return wrapper;
    },
  });
}
