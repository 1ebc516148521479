import type { Store } from '../store.ts';

/**
 * Keeps the records the hot paths read on every request (the client, the resource, whether a token id is revoked)
 * in memory for the embedded store, without ever serving a stale one:
 * - any write through this store clears the cache (every method that is not a read — `get…`, `list…`, `is…` —
 *   or listed as unrelated counts as a write);
 * - a write by another process (`mandate agent disable` from the CLI) changes SQLite's `data_version`, which is
 *   checked once per event-loop turn, before the turn's first cached read. Every request served in a turn was
 *   already received when the turn began, so none of them started after a commit it does not see.
 * PostgreSQL gets no such cache: other instances write without telling us.
 */

/**
 * Reads answered from the cache, by method name: each takes string arguments (none for the list of resources, which
 * every authorization request reads).
 */
const CACHED = new Set(['getClient', 'getResourceByUri', 'getResourceByApiKeyId', 'isTokenIdRevoked', 'getGrant', 'getUser', 'getDelegationPolicy', 'listResources']);
/**
 * Writes that touch none of the cached rows, so they need not clear it. `recordDerivation` revokes only the token
 * being derived, whose id nothing has read yet; `recordTransactionToken` writes a row of its own table; the code's
 * redemption, refresh tokens and a session's last use touch tables of their own (the code and refresh flows' writes). The revocation event log's reader and its listener, and the webhook delivery queue, touch none either.
 */
const UNRELATED = new Set(['redeemAuthorizationCode', 'createRefreshToken', 'rotateRefreshToken', 'touchSession', 'appendAuditRows', 'auditChainState', 'consumeOnce', 'createPendingAuthorization', 'takePendingAuthorization', 'recordDerivation', 'recordTransactionToken', 'addRateLimitCounts', 'pruneAuditRows', 'auditCheckpoint', 'lastRevocationEventId', 'onRevocationEvent', 'enqueueWebhookDeliveries', 'claimDueWebhookDeliveries', 'recordWebhookAttempt', 'ping', 'close']);
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
const MAX_ENTRIES = 10_000;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export function withReadCache(store: Store, dataVersion: () => number): Store {
  const cache = new Map<string, unknown>();
  let seenVersion = dataVersion();
  const wrappers = new Map<PropertyKey, unknown>();

  let checkedThisTurn = false;
  const checkVersion = () => {
    if (checkedThisTurn) return;
    checkedThisTurn = true;
    setImmediate(() => (checkedThisTurn = false));
    const version = dataVersion();
    if (version !== seenVersion) {
      cache.clear();
      seenVersion = version;
    }
  };

  const cachedRead = (name: string, read: (...args: string[]) => Promise<unknown>) => async (...args: string[]) => {
    checkVersion();
    const cacheKey = cacheKeyOf(name, ...args);
    const hit = cache.get(cacheKey);
    if (hit !== undefined || cache.has(cacheKey)) return hit;
    // Frozen, because every caller now shares the object: a mutation would throw rather than corrupt the cache.
    const value = deepFreeze(await read(...args));
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(cacheKey, value);
    return value;
  };

  const write = (method: (...args: unknown[]) => Promise<unknown>) => async (...args: unknown[]) => {
    try {
      return await method(...args);
    } finally {
      cache.clear();
      seenVersion = dataVersion();
    }
  };

  const add = (method: (...args: unknown[]) => Promise<unknown>, keyOf: (args: unknown[]) => string) => async (...args: unknown[]) => {
    try {
      return await method(...args);
    } finally {
      cache.delete(keyOf(args));
    }
  };

  return new Proxy(store, {
    get(target, name, receiver) {
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
