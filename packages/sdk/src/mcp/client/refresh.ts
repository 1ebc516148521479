import { IdTokenVerifier } from '../../agent/id-token.ts';
import { refreshTokenSet } from '../../agent/refresh-token.ts';
import { requestToken } from '../../agent/token-request.ts';
import type { DelegatedTokenSet, TokenStore } from '../../agent/token-store.ts';
import type { AuthorizationServerMetadata } from '../../discovery/authorization-server-metadata.ts';
import type { DpopProver } from '../../dpop/prover.ts';
import { MandateError, MetadataInvalid } from '../../errors.ts';
import type { HttpOptions } from '../../lib/fetch-json.ts';
import { isAcceptableEndpoint } from '../../lib/issuer-url.ts';
import type { ClientIdentities } from './client-identity.ts';

/** What the provider's refresh needs: the issuer's metadata, the client identity there, the store, DPoP. */
export interface ProviderRefreshDeps {
  metadata: AuthorizationServerMetadata;
  identities: ClientIdentities;
  store: TokenStore;
  http: HttpOptions & { clock: () => number };
  /** The provider's DPoP key; a set stored with its own key is refreshed with that one (RFC 9449 §5). */
  dpop: DpopProver | undefined;
  storeDpopKey: boolean | undefined;
}

/**
 * Refreshes the provider's token set (RFC 6749 §6) with the client identity it was obtained with, storing the
 * rotated set; undefined when the refresh failed (an `invalid_grant` already deleted the set; any other failure
 * leaves the current token to expire on its own).
 */
export async function refreshProviderSet(set: DelegatedTokenSet, deps: ProviderRefreshDeps): Promise<DelegatedTokenSet | undefined> {
  const { metadata, http } = deps;
  try {
    const endpoint = metadata.token_endpoint;
    if (!isAcceptableEndpoint(endpoint)) throw new MetadataInvalid('token_endpoint');
    const client = await deps.identities.resolve(set.issuer, metadata, { register: false, clientIdHint: set.clientId });
    const authenticate = deps.identities.authentication(client, metadata);
    return await refreshTokenSet(set, {}, deps.store, {
      issuer: set.issuer,
      appClientId: set.clientId,
      requestAsApp: (form, prover) => requestToken({ issuer: set.issuer, endpoint, tokenEndpoint: endpoint }, form, authenticate, { ...http, ...(prover === undefined ? {} : { dpop: prover }) }),
      dpop: deps.dpop,
      storeDpopKey: deps.storeDpopKey,
      idTokens: new IdTokenVerifier(async () => String(metadata.jwks_uri), async () => undefined, http),
      clock: http.clock,
    });
  } catch (err) {
    if (err instanceof MandateError) return undefined;
    throw err;
  }
}
