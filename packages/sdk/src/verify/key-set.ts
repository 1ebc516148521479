import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { keyTypeFor, signatureCheckFor } from '@mandate/protocol';
import type { JwsAlgorithm, SignatureCheck } from '@mandate/protocol';
import { JwksFetchFailed, NoMatchingKey } from '../errors.ts';
import { fetchJson, isJsonObject } from '../lib/fetch-json.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';

/** How the key set caches and refetches. */
export interface KeySetOptions extends HttpOptions {
  algorithms: readonly JwsAlgorithm[];
  /** Least time between two fetches triggered by an unknown `kid` or a stale cache. */
  refetchCooldownMs: number;
  /** Age after which the keys are refetched even when every `kid` is known (a removed key stops verifying). */
  maxAgeMs: number;
  clock: () => number;
}

/** kid → (alg → signature check bound to that key). */
type Keys = Map<string, Map<JwsAlgorithm, SignatureCheck>>;

/**
 * The issuer's signing keys (RFC 7517 JWK Set at the metadata's `jwks_uri`), imported once into node `KeyObject`s
 * and held as ready signature checks per `kid` and algorithm.
 *
 * An unknown `kid` triggers at most one refetch per cooldown (a rotated-in key is found on its first token, even
 * right after a routine load), and concurrent callers share an in-flight fetch, so a burst of tokens with made-up
 * `kid`s cannot turn into a burst of requests to the authorization server. A failed fetch also waits the cooldown.
 */
export class RemoteKeySet {
  readonly #jwksUri: () => Promise<string>;
  readonly #options: KeySetOptions;
  #keys: Keys | undefined;
  #loadedAt = -Infinity;
  #failedAt = -Infinity;
  /** When an unknown `kid` last caused a fetch; the cooldown runs from here, not from routine loads. */
  #kidRefetchAt = -Infinity;
  #inflight: Promise<void> | undefined;

  constructor(jwksUri: () => Promise<string>, options: KeySetOptions) {
    this.#jwksUri = jwksUri;
    this.#options = options;
  }

  /** The check for `kid` and `alg` when the keys are loaded and fresh; undefined when a (possible) fetch is due. */
  cached(kid: string, alg: JwsAlgorithm): SignatureCheck | undefined {
    if (this.#options.clock() - this.#loadedAt > this.#options.maxAgeMs) return undefined;
    return this.#keys?.get(kid)?.get(alg);
  }

  /** The check for `kid` and `alg`, fetching the JWKS first when it is missing, stale or lacks the `kid`. */
  async resolve(kid: string, alg: JwsAlgorithm): Promise<SignatureCheck> {
    const now = this.#options.clock();
    if (this.#keys === undefined) {
      if (this.#inflight === undefined && !this.#since(this.#failedAt, now)) {
        throw new JwksFetchFailed('the JWKS could not be fetched recently; waiting out the cooldown');
      }
      await this.#refresh();
    } else if (now - this.#loadedAt > this.#options.maxAgeMs && this.#since(this.#failedAt, now)) {
      // A stale cache that cannot be refreshed keeps serving: availability over a removal we could not observe.
      await this.#refresh().catch(() => undefined);
    }
    let check = this.#keys?.get(kid)?.get(alg);
    if (check === undefined) {
      if (this.#inflight === undefined && this.#since(this.#kidRefetchAt, now) && this.#since(this.#failedAt, now)) {
        this.#kidRefetchAt = now;
        await this.#refresh();
      } else if (this.#inflight !== undefined) {
        await this.#inflight;
      }
      check = this.#keys?.get(kid)?.get(alg);
    }
    if (check === undefined) throw new NoMatchingKey(kid);
    return check;
  }

  #since(then: number, now: number): boolean {
    return now - then >= this.#options.refetchCooldownMs;
  }

  /** One fetch at a time: concurrent callers share the in-flight one. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetchKeys().then(
      (keys) => {
        this.#keys = keys;
        this.#loadedAt = this.#options.clock();
        this.#inflight = undefined;
      },
      (err: unknown) => {
        this.#failedAt = this.#options.clock();
        this.#inflight = undefined;
        throw err;
      },
    );
    return this.#inflight;
  }

  async #fetchKeys(): Promise<Keys> {
    const uri = await this.#jwksUri();
    let answer;
    try {
      answer = await fetchJson(uri, { headers: { accept: 'application/jwk-set+json, application/json' } }, this.#options);
    } catch (cause) {
      throw new JwksFetchFailed(`could not fetch ${uri}`, { cause });
    }
    if (answer.status !== 200 || !isJsonObject(answer.json) || !Array.isArray(answer.json.keys)) {
      throw new JwksFetchFailed(`${uri} answered ${answer.status} without a JWK Set`);
    }
    return importKeys(answer.json.keys, this.#options.algorithms);
  }
}

/**
 * Imports the usable verification keys of a JWK Set. A JWK is skipped when it has no `kid`, is meant for
 * encryption (`use`/`key_ops`, RFC 7517 §4.2–4.3), carries private members, or fits none of the allowed algorithms.
 * A `kid` that appears twice is dropped: which key it names would be ambiguous.
 */
function importKeys(jwks: readonly unknown[], algorithms: readonly JwsAlgorithm[]): Keys {
  const keys: Keys = new Map();
  const duplicates = new Set<string>();
  for (const jwk of jwks) {
    if (!isJsonObject(jwk) || typeof jwk.kid !== 'string' || jwk.kid === '') continue;
    if (keys.has(jwk.kid) || duplicates.has(jwk.kid)) {
      keys.delete(jwk.kid);
      duplicates.add(jwk.kid);
      continue;
    }
    const checks = checksForJwk(jwk, algorithms);
    if (checks.size > 0) keys.set(jwk.kid, checks);
  }
  return keys;
}

function checksForJwk(jwk: Record<string, unknown>, algorithms: readonly JwsAlgorithm[]): Map<JwsAlgorithm, SignatureCheck> {
  const checks = new Map<JwsAlgorithm, SignatureCheck>();
  if (jwk.use !== undefined && jwk.use !== 'sig') return checks;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return checks;
  if ('d' in jwk || 'k' in jwk) return checks;
  const candidates = algorithms.filter((alg) => keyTypeFor(alg) === jwk.kty && (jwk.alg === undefined || jwk.alg === alg));
  if (candidates.length === 0) return checks;
  let key;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return checks;
  }
  for (const alg of candidates) {
    const check = signatureCheckFor(alg, key);
    if (check !== undefined) checks.set(alg, check);
  }
  return checks;
}
