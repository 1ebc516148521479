import type { TrustedIssuerConfig } from '../config.ts';
import type { ClientRecord } from '../store/store.ts';
import { fetchClientJwks, type JwksFetchSettings } from './client-jwks-fetch.ts';

/**
 * The public keys of the issuers the `jwt-bearer` grant trusts (`crossDomain.trustedIssuers`): inline `jwks` as
 * configured, or a `jwksUri` fetched through the SSRF-checked fetch (public addresses only, pinned connection, no
 * redirects, a size cap, a deadline) and held to the rules of a client's keys (public asymmetric keys only). Fetched
 * keys are kept `cacheSeconds`; a `kid` the cached set lacks fetches again (key rollover at the issuer), at most once
 * per `REFETCH_MIN_SECONDS`, so assertions with made-up `kid`s cannot turn us into a fetch loop. One fetch at a time
 * per issuer: concurrent requests share it. When fetching again fails, the keys fetched before still verify until
 * they are `maxStaleSeconds` old (an outage at the issuer does not stop every sign-in at once), and no longer: a key
 * the issuer withdrew is not kept alive indefinitely by whoever can make our fetch fail.
 */

type Jwks = NonNullable<ClientRecord['jwks']>;

/** A fetch for an unknown `kid` waits this long after the previous fetch. */
const REFETCH_MIN_SECONDS = 30;

export interface TrustedIssuerKeysSettings {
  fetch: JwksFetchSettings;
  cacheSeconds: number;
  /** The oldest (seconds since their fetch) keys may be and still be used when fetching them again fails. */
  maxStaleSeconds: number;
  now(): number;
}

/** The keys of `issuer` that may verify an assertion with `kid` (undefined: any), or why none can be had. */
export type IssuerKeysLookup = (issuer: TrustedIssuerConfig, kid: string | undefined) => Promise<IssuerKeys>;

/** `reason` is for logs (it may name addresses); `description`, when present, may be shown to the client. */
export type IssuerKeys = { ok: true; jwks: Jwks } | { ok: false; reason: string; description?: string };

interface Cached {
  jwks: Jwks;
  fetchedAt: number;
}

export function trustedIssuerKeys(settings: TrustedIssuerKeysSettings): IssuerKeysLookup {
  const cache = new Map<string, Cached>();
  const inFlight = new Map<string, Promise<IssuerKeys>>();

  function fetchFor(uri: string) {
    let pending = inFlight.get(uri);
    if (pending === undefined) {
      pending = fetchClientJwks(uri, settings.fetch)
        .then((result) => {
          if (result.ok) cache.set(uri, { jwks: result.jwks, fetchedAt: settings.now() });
          return result.ok ? result : { ok: false as const, reason: result.reason.replace(/^jwks_uri/, 'the trusted issuer’s jwksUri') };
        })
        .finally(() => inFlight.delete(uri));
      inFlight.set(uri, pending);
    }
    return pending;
  }

  return async (issuer, kid) => {
    if (issuer.jwks !== undefined) return { ok: true, jwks: issuer.jwks as Jwks };
    const uri = issuer.jwksUri!;
    const now = settings.now();
    const cached = cache.get(uri);
    if (cached !== undefined) {
      const fresh = now - cached.fetchedAt < settings.cacheSeconds;
      const knowsKid = kid === undefined || cached.jwks.keys.some((key) => key['kid'] === kid);
      if (fresh && (knowsKid || now - cached.fetchedAt < REFETCH_MIN_SECONDS)) return { ok: true, jwks: cached.jwks };
    }
    const fetched = await fetchFor(uri);
    if (fetched.ok || cached === undefined) return fetched;
    // A failed fetch falls back to keys that were good a while ago, up to their age limit.
    const age = now - cached.fetchedAt;
    if (age <= settings.maxStaleSeconds) return { ok: true, jwks: cached.jwks };
    return {
      ok: false,
      reason: fetched.reason,
      description: `the keys of ${issuer.issuer} could not be fetched again, and those fetched ${age} s ago are older than the ${settings.maxStaleSeconds} s allowed`,
    };
  };
}
