import type { ReplayRecords, Store } from '../store.ts';
import { StoreUnavailableError } from '../store.ts';
import { RespClient } from './resp-client.ts';

/**
 * The replay markers (DPoP proof `jti`s, client assertions, `jwt-bearer` grants: `consumeOnce`) in Redis instead of
 * the store's `replay_markers` table, when `redisUrl` is set (issue 11 item 4): every instance that names the same
 * Redis shares them, and the markers leave the database's write path. One atomic script per marker, with the
 * table's semantics on the injected clock: a marker still valid at `now` is a replay; an expired one (kept until
 * Redis drops it) is taken over. Redis expires each key when its marker does (relative to `now`). Redis unreachable
 * or too slow is a {@link StoreUnavailableError} (503), never a pass: a replay check that cannot run refuses.
 */

/** KEYS[1] the marker; ARGV: its expiry and now (seconds, the server's clock), its lifetime in ms for Redis. */
const CONSUME_ONCE = `
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;

/** Where the markers live in Redis: `mandate:replay:<marker>` (markers are hashes or random ids). */
export const REDIS_REPLAY_PREFIX = 'mandate:replay:';

export interface RedisReplayMarkers extends Pick<ReplayRecords, 'consumeOnce'> {
  close(): void;
}

export function redisReplayMarkers(url: string, options: { timeoutMs?: number } = {}): RedisReplayMarkers {
  const client = new RespClient(url, options);
  return {
    async consumeOnce(key, expiresAt, now) {
      // Whole milliseconds: Redis refuses a fractional PX, and a proof's or assertion's exp may carry a fraction.
      const ttlMs = Math.ceil(Math.max(1, expiresAt - now) * 1000);
      try {
        return (await client.command(['EVAL', CONSUME_ONCE, 1, `${REDIS_REPLAY_PREFIX}${key}`, expiresAt, now, ttlMs])) === 1;
      } catch (err) {
        throw new StoreUnavailableError(`the replay markers in Redis could not be read (${(err as Error).message})`, { cause: err });
      }
    },
    close: () => client.close(),
  };
}

/** The store with its replay markers in Redis: `consumeOnce` goes there, `close` closes both. */
export function withReplayMarkers(store: Store, markers: RedisReplayMarkers): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'consumeOnce') return markers.consumeOnce;
      if (property === 'close') {
        return async () => {
          markers.close();
          await target.close();
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
