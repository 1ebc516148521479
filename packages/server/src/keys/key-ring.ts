import type { JwsSigner, SigningAlgorithm } from '@mandate/protocol';
import type { SigningKeyRecords } from '../store/store.ts';
import type { KeyCustody } from './key-custody.ts';
import { type LoadedSigningKey, loadSigningKey } from './signing-key.ts';

export type Clock = () => number;

export interface KeyRotation {
  kid: string;
  retiredKid: string;
  retiredPublishedUntil: number;
  /** When the new key starts signing everywhere (now, without publish-ahead). */
  activatesAt: number;
}

/** A rotation asked for while the previous one is still published ahead (its key not signing yet). */
export class RotationPendingError extends Error {
  override readonly name = 'RotationPendingError';
  readonly kid: string;
  readonly activatesAt: number;
  constructor(kid: string, activatesAt: number) {
    super(`a rotation is pending: key ${kid} starts signing at ${new Date(activatesAt * 1000).toISOString()}; rotate again after that`);
    this.kid = kid;
    this.activatesAt = activatesAt;
  }
}
type KeyRecords = Pick<SigningKeyRecords, 'listSigningKeys' | 'insertFirstActiveKey' | 'rotateActiveKey'>;

/**
 * The server's signing keys, held decrypted in memory: one key signs, retired keys verify until every token they
 * signed has expired. Reloaded periodically and on an unknown `kid`, so a rotation done by `mandate keys rotate`
 * (or another instance) takes effect without a restart.
 *
 * SR-08, publish-ahead: a rotation stores the new key as active with `activatesAt` in the future. Until then every
 * instance that has reloaded publishes it in its JWKS while the key it replaces keeps signing; at `activatesAt` (by
 * the injected clock) every instance switches, each having published the new key for at least the publish-ahead
 * time less its reload interval. A resource server that cached the JWKS within that window already holds the new key.
 */
/** Wraps a key's signer (in process or external); the key ring applies it to each key it loads. */
export type SignWrapper = (key: Pick<LoadedSigningKey, 'kid' | 'alg'>, sign: JwsSigner['sign']) => JwsSigner['sign'];

export class KeyRing {
  readonly #store: KeyRecords;
  readonly #custody: KeyCustody;
  readonly #now: Clock;
  #keys = new Map<string, LoadedSigningKey>();
  /** The newest key (status `active`): it signs from `#current.activatesAt`. */
  #current!: LoadedSigningKey;
  /** The key it replaces, signing until then; null when `#current` signs already (or none was replaced). */
  #previous: LoadedSigningKey | null = null;
  #lastReloadMs = 0;

  /** Wraps each loaded key's signer (a trace span per signature, when tracing is on). */
  readonly #wrapSign: SignWrapper | undefined;

  private constructor(store: KeyRecords, custody: KeyCustody, now: Clock, wrapSign: SignWrapper | undefined) {
    this.#store = store;
    this.#custody = custody;
    this.#now = now;
    this.#wrapSign = wrapSign;
  }

  /** Loads the keys, generating the first one (of `algorithm`, in `custody`) when the store has none. */
  static async open(
    store: KeyRecords,
    custody: KeyCustody,
    algorithm: SigningAlgorithm,
    now: Clock,
    wrapSign?: SignWrapper,
  ): Promise<KeyRing> {
    const ring = new KeyRing(store, custody, now, wrapSign);
    const records = await store.listSigningKeys();
    if (!records.some((r) => r.status === 'active')) {
      // Two instances starting at once may both try; the store admits one active key and the loser reloads.
      await store.insertFirstActiveKey(await custody.generate(algorithm, now()));
    }
    await ring.reload();
    return ring;
  }

  async reload(): Promise<void> {
    const records = await this.#store.listSigningKeys();
    const now = this.#now();
    const keys = new Map<string, LoadedSigningKey>();
    let current: LoadedSigningKey | undefined;
    for (const record of records) {
      const previous = this.#keys.get(record.kid);
      // Keep already-decrypted keys whose status and signing window are unchanged; decrypt only what is new.
      const unchanged = previous && previous.status === record.status && previous.retiredAt === record.retiredAt;
      const loaded = unchanged ? { ...previous, publishUntil: record.publishUntil } : this.#withWrappedSigner(loadSigningKey(record, this.#custody, now));
      keys.set(record.kid, loaded);
      if (record.status === 'active') current = loaded;
    }
    if (!current) throw new Error('no active signing key in the store');
    // The key `current` replaces: the retired key that signs until `current` activates.
    let replaced: LoadedSigningKey | null = null;
    if (current.activatesAt > now) {
      for (const key of keys.values()) if (key.retiredAt === current.activatesAt && key.signer) replaced = key;
    }
    this.#keys = keys;
    this.#current = current;
    this.#previous = replaced;
    this.#lastReloadMs = Date.now();
  }

  #withWrappedSigner(key: LoadedSigningKey): LoadedSigningKey {
    if (!this.#wrapSign || !key.signer) return key;
    return { ...key, signer: { ...key.signer, sign: this.#wrapSign(key, key.signer.sign) } };
  }

  /**
   * Makes a new key active and retires the current one, which stays published (and verifies) for
   * `publishForSeconds` after it stops signing: at least the longest token lifetime, so no token in circulation
   * loses its key. With `publishAheadSeconds`, the new key signs only that long from now (SR-08); until then it is
   * published and the current key keeps signing. Refused while an earlier rotation has not activated yet.
   */
  async rotate(algorithm: SigningAlgorithm, publishForSeconds: number, publishAheadSeconds = 0): Promise<KeyRotation> {
    const rotated = await this.#rotate(algorithm, publishForSeconds, publishAheadSeconds);
    if (!rotated) throw new RotationPendingError(this.#current.kid, this.#current.activatesAt);
    return rotated;
  }

  /**
   * Scheduled rotation: rotates (published ahead, as {@link rotate}) when the newest key was made `intervalSeconds`
   * ago or more; otherwise, or when another instance rotated first, does nothing and resolves to null. Instances
   * that all call it on their own schedule make one new key between them: the store rotates only while the active
   * key is older than the interval, in the same transaction.
   */
  async rotateIfDue(algorithm: SigningAlgorithm, intervalSeconds: number, publishForSeconds: number, publishAheadSeconds: number): Promise<KeyRotation | null> {
    const dueBefore = this.#now() - intervalSeconds;
    if (this.#current.createdAt > dueBefore) return null;
    await this.reload();
    if (this.#current.createdAt > dueBefore || this.#current.activatesAt > this.#now()) return null;
    return this.#rotate(algorithm, publishForSeconds, publishAheadSeconds, dueBefore + 1);
  }

  async #rotate(algorithm: SigningAlgorithm, publishForSeconds: number, publishAheadSeconds: number, onlyIfActiveCreatedBefore?: number): Promise<KeyRotation | null> {
    const now = this.#now();
    const activatesAt = now + publishAheadSeconds;
    const record = await this.#custody.generate(algorithm, now, activatesAt);
    await this.reload();
    const retiredKid = this.#current.kid;
    if (!(await this.#store.rotateActiveKey(record, activatesAt, activatesAt + publishForSeconds, now, onlyIfActiveCreatedBefore))) {
      await this.reload();
      return null;
    }
    await this.reload();
    return { kid: record.kid, retiredKid, retiredPublishedUntil: activatesAt + publishForSeconds, activatesAt };
  }

  /** Who holds the private keys (`keys/key-custody.ts`). */
  get custody(): KeyCustody {
    return this.#custody;
  }

  /** The wire view of a rotation (CLI `--json`, admin API), snake_case like every other Mandate JSON. */
  static rotationView(rotated: KeyRotation) {
    return { kid: rotated.kid, retired_kid: rotated.retiredKid, retired_published_until: rotated.retiredPublishedUntil, activates_at: rotated.activatesAt };
  }

  /** Every key with its status, for `mandate keys list` and the admin API; no private material. */
  list(): { kid: string; alg: SigningAlgorithm; status: string; signing: boolean; activates_at: number; published: boolean; publish_until: number | null }[] {
    const signing = this.active;
    return [...this.#keys.values()].map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: k.status,
      signing: k === signing,
      activates_at: k.activatesAt,
      published: k === this.#current || this.verificationKey(k.kid) !== undefined,
      publish_until: k.publishUntil,
    }));
  }

  /** The key that signs new tokens now: the newest, or the one it replaces until the newest activates (SR-08). */
  get active(): LoadedSigningKey {
    return this.#previous !== null && this.#now() < this.#current.activatesAt ? this.#previous : this.#current;
  }

  /** A key that may verify a token now: the newest (published ahead too), or a retired one within its publication window. */
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

  /** The JWKS document (RFC 7517): the signing key first, then the others still published (a key published ahead included). */
  jwks(): { keys: Record<string, unknown>[] } {
    const signing = this.active;
    const keys: Record<string, unknown>[] = [signing.publicJwk];
    for (const key of this.#keys.values()) {
      if (key !== signing && this.verificationKey(key.kid)) keys.push(key.publicJwk);
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
