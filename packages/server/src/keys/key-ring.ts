import type { SigningAlgorithm } from '@mandate/protocol';
import type { SigningKeyRecords } from '../store/store.ts';
import { generateSigningKey, type LoadedSigningKey, loadSigningKey } from './signing-key.ts';

export type Clock = () => number;
type KeyRecords = Pick<SigningKeyRecords, 'listSigningKeys' | 'insertFirstActiveKey' | 'rotateActiveKey'>;

/**
 * The server's signing keys, held decrypted in memory: one active key signs, retired keys verify until every
 * token they signed has expired. Reloaded periodically and on an unknown `kid`, so a rotation done by
 * `mandate keys rotate` (or another instance) takes effect without a restart.
 */
export class KeyRing {
  readonly #store: KeyRecords;
  readonly #kek: Buffer;
  readonly #now: Clock;
  #keys = new Map<string, LoadedSigningKey>();
  #active!: LoadedSigningKey;
  #lastReloadMs = 0;

  private constructor(store: KeyRecords, kek: Buffer, now: Clock) {
    this.#store = store;
    this.#kek = kek;
    this.#now = now;
  }

  /** Loads the keys, generating the first one (of `algorithm`) when the store has none. */
  static async open(
    store: KeyRecords,
    kek: Buffer,
    algorithm: SigningAlgorithm,
    now: Clock,
  ): Promise<KeyRing> {
    const ring = new KeyRing(store, kek, now);
    const records = await store.listSigningKeys();
    if (!records.some((r) => r.status === 'active')) {
      // Two instances starting at once may both try; the store admits one active key and the loser reloads.
      await store.insertFirstActiveKey(await generateSigningKey(algorithm, kek, now()));
    }
    await ring.reload();
    return ring;
  }

  async reload(): Promise<void> {
    const records = await this.#store.listSigningKeys();
    const keys = new Map<string, LoadedSigningKey>();
    let active: LoadedSigningKey | undefined;
    for (const record of records) {
      const previous = this.#keys.get(record.kid);
      // Keep already-decrypted keys whose status is unchanged; decrypt only what is new.
      const loaded = previous && previous.status === record.status ? { ...previous, publishUntil: record.publishUntil } : loadSigningKey(record, this.#kek);
      keys.set(record.kid, loaded);
      if (record.status === 'active') active = loaded;
    }
    if (!active) throw new Error('no active signing key in the store');
    this.#keys = keys;
    this.#active = active;
    this.#lastReloadMs = Date.now();
  }

  /**
   * Makes a new key active and retires the current one, which stays published (and verifies) for
   * `publishForSeconds`: at least the longest token lifetime, so no token in circulation loses its key.
   */
  async rotate(algorithm: SigningAlgorithm, publishForSeconds: number): Promise<{ kid: string; retiredKid: string; retiredPublishedUntil: number }> {
    const now = this.#now();
    const record = await generateSigningKey(algorithm, this.#kek, now);
    const retiredKid = this.#active.kid;
    await this.#store.rotateActiveKey(record, now, now + publishForSeconds);
    await this.reload();
    return { kid: record.kid, retiredKid, retiredPublishedUntil: now + publishForSeconds };
  }

  /** The wire view of a rotation (CLI `--json`, admin API), snake_case like every other Mandate JSON. */
  static rotationView(rotated: { kid: string; retiredKid: string; retiredPublishedUntil: number }) {
    return { kid: rotated.kid, retired_kid: rotated.retiredKid, retired_published_until: rotated.retiredPublishedUntil };
  }

  /** Every key with its status, for `mandate keys list` and the admin API; no private material. */
  list(): { kid: string; alg: SigningAlgorithm; status: string; published: boolean; publish_until: number | null }[] {
    return [...this.#keys.values()].map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: k.status,
      published: k === this.#active || this.verificationKey(k.kid) !== undefined,
      publish_until: k.publishUntil,
    }));
  }

  /** The key that signs new tokens. */
  get active(): LoadedSigningKey {
    return this.#active;
  }

  /** A key that may verify a token now: the active one, or a retired one still within its publication window. */
  verificationKey(kid: string): LoadedSigningKey | undefined {
    const key = this.#keys.get(kid);
    if (!key) return undefined;
    if (key.status === 'retired' && (key.publishUntil === null || key.publishUntil <= this.#now())) return undefined;
    return key;
  }

  /**
   * Looks a `kid` up, reloading at most once per `cooldownMs` when it is unknown: a token from a rotation done
   * elsewhere verifies, while a flood of made-up kids costs one reload per cooldown, not one per request.
   */
  async verificationKeyOrReload(kid: string, cooldownMs = 5000): Promise<LoadedSigningKey | undefined> {
    const key = this.verificationKey(kid);
    if (key || Date.now() - this.#lastReloadMs < cooldownMs) return key;
    await this.reload();
    return this.verificationKey(kid);
  }

  /** The JWKS document (RFC 7517): active key first, then retired keys still published. */
  jwks(): { keys: Record<string, unknown>[] } {
    const keys: Record<string, unknown>[] = [this.#active.publicJwk];
    for (const key of this.#keys.values()) {
      if (key !== this.#active && this.verificationKey(key.kid)) keys.push(key.publicJwk);
    }
    return { keys };
  }

  /** Seconds until the JWKS may change by itself (a retired key leaving it), for Cache-Control. */
  secondsUntilJwksChange(): number | null {
    let next: number | null = null;
    for (const key of this.#keys.values()) {
      if (key.status === 'retired' && key.publishUntil !== null && key.publishUntil > this.#now()) {
        next = Math.min(next ?? Infinity, key.publishUntil - this.#now());
      }
    }
    return next;
  }
}
