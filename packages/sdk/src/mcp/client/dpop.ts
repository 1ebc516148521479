import { boundKey, createDpopFetch, DpopProver } from '../../dpop/prover.ts';
import type { DelegatedTokenSet } from '../../agent/token-store.ts';

/** How many token responses seen through the transport's fetch are remembered (the {@link ProviderDpop.assertSeen} check, {@link ProviderDpop.canPresent}). */
const SEEN_TOKENS = 16;

/**
 * The MCP client provider's DPoP (RFC 9449): the key (generated in memory, given, or the one a token set was stored
 * with), and the `fetch` the transport must use, since the MCP SDK's transport and `auth()` know only bearer tokens:
 * token requests get a proof (retried once on the AS's `use_dpop_nonce`, §8), and a request carrying a bound token
 * of this provider is sent with the `DPoP` scheme and a proof with `ath` (retried once on the resource's nonce, §9).
 */
export class ProviderDpop {
  readonly #clock: () => number;
  readonly #fetchImpl: typeof fetch;
  #prover: DpopProver;
  #fetch: typeof fetch;
  /** The stored key the prover was made from, as JSON, so that it is not made again for every request. */
  #storedKey: string | undefined;
  /** The access token `tokens()` handed out last, when it is bound (`token_type: DPoP`). */
  #boundToken: string | undefined;
  readonly #seen: string[] = [];

  constructor(dpop: true | DpopProver, clock: () => number, fetchImpl: typeof fetch) {
    this.#clock = clock;
    this.#fetchImpl = fetchImpl;
    this.#prover = dpop === true ? DpopProver.generate('ES256', { clock }) : dpop;
    this.#fetch = this.#fetchFor(this.#prover);
  }

  get prover(): DpopProver {
    return this.#prover;
  }

  /** The transport's fetch (stable: it follows the prover when a stored key replaces it). */
  readonly fetch: typeof fetch = (input, init) => this.#fetch(input, init);

  /**
   * Called with the set `tokens()` is about to hand out: a set stored with its key (`storeDpopKey`) is presented
   * with that key, even in a process started since; a bound token is remembered so that the fetch sends it as DPoP.
   */
  present(set: DelegatedTokenSet): void {
    if (set.dpopKey !== undefined) {
      const json = JSON.stringify(set.dpopKey);
      if (json !== this.#storedKey) {
        this.#prover = DpopProver.fromStoredKey(set.dpopKey, { clock: this.#clock });
        this.#fetch = this.#fetchFor(this.#prover);
        this.#storedKey = json;
      }
    }
    this.#boundToken = set.tokenType.toLowerCase() === 'dpop' ? set.accessToken : undefined;
  }

  /** Remembers a set this provider obtained (and the key it was stored with), so that presenting it does not rebuild the prover. */
  obtained(set: DelegatedTokenSet): void {
    if (set.dpopKey !== undefined) this.#storedKey = JSON.stringify(set.dpopKey);
    this.#remember(set.accessToken);
  }

  /**
   * Whether this provider can present a set: a Bearer one always; a bound one when it was stored with its key, or
   * was obtained with this prover (a JWT whose `cnf.jkt` is the key's, or one it saw come back). A bound set from
   * a process started since, stored without its key, cannot be presented (nor, for a public client, refreshed).
   */
  canPresent(set: DelegatedTokenSet): boolean {
    if (set.tokenType.toLowerCase() !== 'dpop' || set.dpopKey !== undefined || this.#seen.includes(set.accessToken)) return true;
    return boundKey(set.accessToken) === this.#prover.jkt;
  }

  /**
   * The MCP SDK got tokens without this provider's fetch (the transport was not given `fetch: provider.fetch`): the
   * request carried no proof, so the tokens are not bound. A misuse, refused before the tokens are kept.
   */
  assertSeen(accessToken: string): void {
    if (!this.#seen.includes(accessToken)) {
      throw new TypeError('dpop is on but the token request did not go through provider.fetch: give the transport { authProvider: provider, fetch: provider.fetch }');
    }
  }

  #fetchFor(prover: DpopProver): typeof fetch {
    return createDpopFetch(prover, this.#fetchImpl, {
      isBound: (token) => token === this.#boundToken,
      onTokenResponse: ({ accessToken }) => this.#remember(accessToken),
    });
  }

  #remember(accessToken: string): void {
    this.#seen.push(accessToken);
    if (this.#seen.length > SEEN_TOKENS) this.#seen.shift();
  }
}

