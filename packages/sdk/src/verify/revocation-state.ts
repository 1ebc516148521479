import { isRevokedBy, revocationEventConcerns } from '@mandate/protocol';
import type { AccessTokenClaims, RevocationCutoff, RevocationEvent } from '@mandate/protocol';
import { TokenInactive } from '../errors.ts';
import type { HttpOptions } from '../lib/fetch-json.ts';
import { assertIssuerIdentifier } from '../lib/issuer-url.ts';
import { introspectionEndpointOf } from './introspect.ts';
import { Introspector } from './introspection.ts';
import type { IntrospectionCredentials } from './introspection.ts';

/** Options of {@link RevocationState}. */
export interface RevocationStateOptions {
  /**
   * The most revoked token ids, grant ids and party cutoffs kept at once. Entries are forgotten when their event's
   * `exp` has passed (nothing they name can be alive then); past this bound the oldest go first, and from then on
   * until what they named has expired, every token issued before the newest of them was received is uncertain
   * ({@link RevocationState.isUncertain}): introspected when `introspection` is given, refused otherwise.
   * Default 100 000.
   */
  maxEntries?: number;
  /** How long an event without `exp` (an older server) is remembered, in seconds. Default 86 400. */
  defaultRetentionSeconds?: number;
  /**
   * How far this clock may be behind the authorization server's, in seconds: a token revoked by a forgotten event
   * may carry an `iat` up to this much after the event was received here. Default 60.
   */
  clockSkewSeconds?: number;
  /**
   * Where to ask about uncertain tokens (RFC 7662): the issuer and this resource's credentials (its API key).
   * Without it an uncertain token is refused with `TokenInactive` (the state fails closed). `subscribeRevocations`
   * sets it from its own `issuer` and `apiKey`.
   */
  introspection?: HttpOptions & { issuer: string; credentials: IntrospectionCredentials; cacheTtlSeconds?: number };
  /**
   * This resource's URI (or URIs): an event whose `aud` names none of them is ignored, since it revokes only tokens
   * meant for other resources (an event without `aud`, from a cutoff or an older server, is always applied). So
   * another resource's revocations never take room under `maxEntries`. Default: every event is applied.
   */
  audience?: string | readonly string[];
  /** Current time in milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** How many applied events between two sweeps of expired entries, when the bound is not reached. */
const SWEEP_EVERY = 256;

/**
 * What revocation events said so far: revoked token and grant ids, parties' cutoffs; bounded in memory (each entry
 * is kept until its event's `exp`, and at most `maxEntries` of them). It never fails open: once entries had to be
 * forgotten early, the tokens they could have named (issued before the horizon) are no longer vouched for.
 */
export class RevocationState {
  /** `j:<jti>` and `g:<gid>` → until when it matters and when it was received (seconds), oldest first. */
  readonly #ids = new Map<string, { until: number; received: number }>();
  /** `<party>:<id>` → the latest cutoff of that party, and until when it matters. */
  readonly #cutoffs = new Map<string, { cut: RevocationCutoff; until: number }>();
  readonly #maxEntries: number;
  readonly #retentionSeconds: number;
  readonly #skewSeconds: number;
  readonly #clock: () => number;
  readonly #introspector: Introspector | undefined;
  readonly #audiences: readonly string[] | undefined;
  /** Tokens with `iat` at or before `before` may have been named by a forgotten entry, until `until` (seconds). */
  #horizon: { before: number; until: number } | undefined;
  #appliedSinceSweep = 0;
  #dropped = 0;

  constructor(options: RevocationStateOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('maxEntries must be a positive integer');
    const retention = options.defaultRetentionSeconds ?? 86_400;
    if (!Number.isFinite(retention) || retention <= 0) throw new TypeError('defaultRetentionSeconds must be a positive number');
    const skew = options.clockSkewSeconds ?? 60;
    if (!Number.isFinite(skew) || skew < 0) throw new TypeError('clockSkewSeconds must be a number ≥ 0');
    this.#maxEntries = max;
    this.#retentionSeconds = retention;
    this.#skewSeconds = skew;
    this.#clock = options.clock ?? Date.now;
    this.#introspector = options.introspection === undefined ? undefined : introspectorFor(options.introspection, this.#clock);
    const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
    if (audiences !== undefined && (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a !== ''))) {
      throw new TypeError('audience must be a non-empty string or a non-empty array of them');
    }
    this.#audiences = audiences;
  }

  /** How many entries (revoked ids and party cutoffs) are kept now. */
  get size(): number {
    return this.#ids.size + this.#cutoffs.size;
  }

  /** How many unexpired entries were forgotten because of `maxEntries` so far (a sign the bound is too small). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * While forgotten entries may still matter: tokens issued at or before `issuedBefore` (seconds) are uncertain
   * until `until`. Undefined when nothing was forgotten early, or all of it has expired.
   */
  get horizon(): { issuedBefore: number; until: number } | undefined {
    const horizon = this.#currentHorizon(this.#clock() / 1000);
    return horizon === undefined ? undefined : { issuedBefore: horizon.before, until: horizon.until };
  }

  /** Whether an event is for this resource (see `audience`); {@link apply} ignores the others. */
  concerns(event: RevocationEvent): boolean {
    return this.#audiences === undefined || this.#audiences.some((uri) => revocationEventConcerns(event, uri));
  }

  apply(event: RevocationEvent): void {
    if (!this.concerns(event)) return;
    const now = this.#clock() / 1000;
    const until = event.exp ?? now + this.#retentionSeconds;
    if (until <= now) return;
    const keepId = (key: string) => {
      const known = this.#ids.get(key);
      // Deleted first: the entry moves to the newest end, where eviction comes last.
      this.#ids.delete(key);
      this.#ids.set(key, { until: Math.max(until, known?.until ?? 0), received: now });
    };
    for (const jti of event.jti ?? []) keepId(`j:${jti}`);
    for (const gid of event.gid ?? []) keepId(`g:${gid}`);
    for (const cut of event.cutoff ?? []) {
      const key = `${cut.party}:${cut.id}`;
      const known = this.#cutoffs.get(key);
      this.#cutoffs.delete(key);
      const latest = known !== undefined && known.cut.iat_before > cut.iat_before ? known.cut : { party: cut.party, id: cut.id, iat_before: cut.iat_before };
      this.#cutoffs.set(key, { cut: latest, until: Math.max(until, known?.until ?? 0) });
    }
    this.#prune(now);
  }

  #prune(now: number): void {
    if (this.size > this.#maxEntries || ++this.#appliedSinceSweep >= SWEEP_EVERY) {
      this.#appliedSinceSweep = 0;
      for (const [key, entry] of this.#ids) if (entry.until <= now) this.#ids.delete(key);
      for (const [key, entry] of this.#cutoffs) if (entry.until <= now) this.#cutoffs.delete(key);
    }
    // Over the bound: the oldest ids first (one token or grant each), then the oldest cutoffs. What an entry
    // named was issued before it was received (a cutoff: before its `iat_before`): the horizon moves past it.
    for (const [key, entry] of this.#ids) {
      if (this.size <= this.#maxEntries) return;
      this.#ids.delete(key);
      this.#forget(entry.received + this.#skewSeconds, entry.until);
    }
    for (const [key, entry] of this.#cutoffs) {
      if (this.size <= this.#maxEntries) return;
      this.#cutoffs.delete(key);
      this.#forget(entry.cut.iat_before, entry.until);
    }
  }

  #forget(before: number, until: number): void {
    this.#dropped++;
    this.#horizon = { before: Math.max(before, this.#horizon?.before ?? 0), until: Math.max(until, this.#horizon?.until ?? 0) };
  }

  #currentHorizon(now: number): { before: number; until: number } | undefined {
    if (this.#horizon !== undefined && this.#horizon.until <= now) this.#horizon = undefined;
    return this.#horizon;
  }

  /** Whether an event seen (and still kept) makes a token with these claims invalid. */
  isRevoked(claims: AccessTokenClaims): boolean {
    if (this.#ids.has(`j:${claims.jti}`) || (claims.gid !== undefined && this.#ids.has(`g:${claims.gid}`))) return true;
    return this.#cutoffs.size > 0 && isRevokedBy(claims, { cutoff: [...this.#cutoffs.values()].map((entry) => entry.cut) });
  }

  /**
   * Whether a token was issued before the horizon of entries forgotten early (past `maxEntries`): an event this
   * state no longer holds may have revoked it, so its not being {@link isRevoked} proves nothing.
   */
  isUncertain(claims: Pick<AccessTokenClaims, 'iat'>): boolean {
    const horizon = this.#currentHorizon(this.#clock() / 1000);
    return horizon !== undefined && claims.iat <= horizon.before;
  }

  /**
   * What a verifier calls (`createVerifier({ revocations })`): {@link TokenInactive} for a token revoked by an
   * event kept; for an uncertain token, the introspection endpoint's answer (its current scopes when it is
   * active), or {@link TokenInactive} when no `introspection` was configured. Resolves for any other token.
   */
  async assertNotRevoked(token: string, claims: AccessTokenClaims): Promise<{ scopes?: string[] }> {
    if (this.isRevoked(claims)) throw new TokenInactive();
    if (!this.isUncertain(claims)) return {};
    if (this.#introspector === undefined) throw new TokenInactive('revocation events about this token may have been forgotten (maxEntries) and no introspection is configured');
    return this.#introspector.assertActive(token, claims);
  }
}

function introspectorFor(options: NonNullable<RevocationStateOptions['introspection']>, clock: () => number): Introspector {
  assertIssuerIdentifier(options.issuer);
  const http: HttpOptions = {};
  if (options.fetch !== undefined) http.fetch = options.fetch;
  if (options.httpTimeoutMs !== undefined) http.httpTimeoutMs = options.httpTimeoutMs;
  const settings = { credentials: options.credentials, ...(options.cacheTtlSeconds === undefined ? {} : { cacheTtlSeconds: options.cacheTtlSeconds }) };
  return new Introspector(introspectionEndpointOf(options.issuer, http), settings, { http, clock, issuer: options.issuer });
}
