import { DpopProver } from '../dpop/prover.ts';
import { TokenRequestFailed } from '../errors.ts';
import { checkIdToken, grantedScope, tokenSetFrom } from './exchange-code.ts';
import type { TokenSetDeps } from './exchange-code.ts';
import type { DelegatedTokenSet, TokenStore } from './token-store.ts';

/** Parameters of a refresh. */
export interface RefreshRequest {
  /** Fewer scopes than granted, for this access token only (RFC 6749 §6); the next refresh may ask for all again. */
  scope?: readonly string[];
}

/**
 * Refreshes a token set with its refresh token (RFC 6749 §6) as the application and stores the rotated set.
 * Mandate rotates refresh tokens on every use and treats a rotated token presented again as theft, revoking the
 * whole grant (RFC 9700 §4.14.2, BCP-04); so the freshest refresh token is read from the store first, the new set
 * replaces the old one in a single `set` (the caller runs one refresh per key at a time), and an `invalid_grant`
 * (reused, revoked, expired) deletes the stored set before `ERR_TOKEN_REQUEST_FAILED` is thrown: it can never work
 * again, and the user has to authorize anew.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export async function refreshTokenSet(tokens: DelegatedTokenSet, request: RefreshRequest, store: TokenStore, deps: TokenSetDeps): Promise<DelegatedTokenSet> {
  const current = (await store.get(tokens.key)) ?? tokens;
  if (current.refreshToken === undefined) throw new TypeError('this token set has no refresh token (was offline_access granted?)');
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current.refreshToken });
  if (request.scope !== undefined) form.set('scope', request.scope.join(' '));
  // RFC 8707 §2.2, MCP-C-04: the resource again, so the new access token has the same audience.
  for (const uri of current.resource) form.append('resource', uri);
  // The key the set is bound to (a public client's refresh token is, RFC 9449 §5), even in a process started since;
  // the client's own prover when it is that key (it knows the server's nonce) or the set has none.
  const prover = current.dpopKey !== undefined && current.dpopKey.privateJwk !== undefined && !sameKey(deps.dpop, current) ? DpopProver.fromStoredKey(current.dpopKey, { clock: deps.clock }) : deps.dpop;
  let answer;
  try {
    answer = await deps.requestAsApp(form, prover);
  } catch (err) {
    if (err instanceof TokenRequestFailed && err.error === 'invalid_grant') await store.delete(current.key);
    throw err;
  }
  const scope = grantedScope(answer, request.scope ?? current.scope);
  const idToken = await checkIdToken(answer, scope, deps, { subject: current.subject, required: false });
  const next = { ...tokenSetFrom(answer, { scope, resource: current.resource, actor: current.actor, idToken, previous: current, dpop: prover }, deps), key: current.key };
  await store.set(next.key, next);
  return next;
}

/** Whether the client's prover holds the key the set was stored with. */
function sameKey(prover: DpopProver | undefined, set: DelegatedTokenSet): boolean {
  if (prover === undefined || !prover.exportable || set.dpopKey === undefined) return false;
  const mine = prover.exportKey().privateJwk;
  const stored = set.dpopKey.privateJwk;
  return mine.kty === stored.kty && mine.x === stored.x && mine.y === stored.y && mine.n === stored.n && mine.crv === stored.crv;
}
