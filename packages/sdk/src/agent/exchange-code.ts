import { parseCompactJws, TOKEN_TYPE_ACCESS_TOKEN } from '@mandate/protocol';
import { IdTokenInvalid } from '../errors.ts';
import type { DpopProver } from '../dpop/prover.ts';
import type { AuthorizationResponse } from './authorization-response.ts';
import type { IdTokenVerifier } from './id-token.ts';
import type { TokenResponse } from './token-request.ts';
import { tokenSetKey } from './token-store.ts';
import type { DelegatedTokenSet } from './token-store.ts';

/** What redeeming a code and refreshing need: the token endpoint as the application, and ID-token checks. */
export interface TokenSetDeps {
  issuer: string;
  appClientId: string;
  /** POSTs a grant to the token endpoint with the application's client authentication (and `dpop`'s proof, else the client's). */
  requestAsApp(form: URLSearchParams, dpop?: DpopProver): Promise<TokenResponse>;
  /** The client's DPoP prover, when its token requests are DPoP requests. */
  dpop?: DpopProver | undefined;
  /** Keep the DPoP private key in the token store with the tokens bound to it (opt-in; see `storeDpopKey`). */
  storeDpopKey?: boolean | undefined;
  idTokens: Pick<IdTokenVerifier, 'verify'>;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

/**
 * Redeems an authorization code (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.5) for the application: `code`,
 * `code_verifier`, the same `redirect_uri`, `resource` again (RFC 8707 §2.2, MCP-C-04), and for an on-behalf-of
 * grant the agent's own access token as `actor_token` (draft-oauth-ai-agents-on-behalf-of-user-02 §4.3; -02 defines
 * no `actor_token_type`, Mandate accepts the RFC 8693 one, which is sent). The ID token, when `openid` was granted,
 * must be valid and carry the request's `nonce`.
 */
export async function redeemCode(response: AuthorizationResponse, actorToken: string | undefined, deps: TokenSetDeps): Promise<DelegatedTokenSet> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: response.code,
    code_verifier: response.codeVerifier,
    redirect_uri: response.redirectUri,
  });
  for (const resource of response.resource) form.append('resource', resource);
  if (actorToken !== undefined) {
    form.set('actor_token', actorToken);
    form.set('actor_token_type', TOKEN_TYPE_ACCESS_TOKEN);
  }
  const tokens = await deps.requestAsApp(form);
  const scope = grantedScope(tokens, response.scope);
  const idToken = await checkIdToken(tokens, scope, deps, { nonce: response.nonce, required: true });
  return tokenSetFrom(tokens, { scope, resource: response.resource, actor: response.requestedActor, idToken, previous: undefined, dpop: deps.dpop }, deps);
}

/** The scope of a token response (RFC 6749 §5.1: present when it differs from the request), else the request's. */
export function grantedScope(tokens: TokenResponse, requested: readonly string[]): string[] {
  return tokens.scope === undefined ? [...requested] : tokens.scope.split(' ').filter((s) => s !== '');
}

/**
 * Verifies the ID token of a response. With `openid` granted it is required after a code redemption (OpenID
 * Connect Core §3.1.3.3) and optional on refresh (§12.2, where it must name the same user).
 */
export async function checkIdToken(
  tokens: TokenResponse,
  scope: readonly string[],
  deps: TokenSetDeps,
  expected: { nonce?: string | undefined; subject?: string | undefined; required: boolean },
): Promise<{ token: string; claims: Record<string, unknown> } | undefined> {
  const idToken = tokens.raw['id_token'];
  if (idToken === undefined) {
    if (expected.required && scope.includes('openid')) throw new IdTokenInvalid('missing', 'openid was granted but the token response has no id_token');
    return undefined;
  }
  if (typeof idToken !== 'string') throw new IdTokenInvalid('claims', 'id_token is not a string');
  const claims = await deps.idTokens.verify(idToken, { issuer: deps.issuer, clientId: deps.appClientId, nonce: expected.nonce, subject: expected.subject });
  return { token: idToken, claims };
}

/** Builds the stored form of a token response; the user is the ID token's `sub`, else the access token's. */
export function tokenSetFrom(
  tokens: TokenResponse,
  facts: {
    scope: string[];
    resource: string[];
    actor: string | undefined;
    idToken: { token: string; claims: Record<string, unknown> } | undefined;
    previous: DelegatedTokenSet | undefined;
    /** The prover the request was made with: a DPoP-bound answer is stored with its key. */
    dpop?: DpopProver | undefined;
  },
  deps: Pick<TokenSetDeps, 'issuer' | 'appClientId' | 'clock' | 'storeDpopKey'>,
): DelegatedTokenSet {
  const { previous, idToken } = facts;
  const subject = (idToken?.claims['sub'] as string | undefined) ?? previous?.subject ?? unverifiedSubject(tokens.accessToken);
  const set: DelegatedTokenSet = {
    key: tokenSetKey({ issuer: deps.issuer, clientId: deps.appClientId, actor: facts.actor, subject, resource: facts.resource }),
    issuer: deps.issuer,
    clientId: deps.appClientId,
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    scope: facts.scope,
    resource: [...facts.resource],
    updatedAt: Math.floor(deps.clock() / 1000),
  };
  if (facts.actor !== undefined) set.actor = facts.actor;
  if (subject !== undefined) set.subject = subject;
  if (tokens.expiresAt !== undefined) set.expiresAt = tokens.expiresAt;
  // OAuth 2.1 §4.3.3: without a new refresh token in the answer, the one presented stays valid.
  const refreshToken = tokens.refreshToken ?? previous?.refreshToken;
  if (refreshToken !== undefined) set.refreshToken = refreshToken;
  const id = idToken ?? (previous?.idToken === undefined ? undefined : { token: previous.idToken, claims: previous.idTokenClaims ?? {} });
  if (id !== undefined) {
    set.idToken = id.token;
    set.idTokenClaims = id.claims;
  }
  // Only when asked: a bound answer keeps its key beside it, so that the tokens outlive this process. By default
  // the private key stays in memory, and the set is usable (and refreshable) only while its prover is.
  if (deps.storeDpopKey === true && tokens.tokenType.toLowerCase() === 'dpop' && facts.dpop?.exportable) set.dpopKey = facts.dpop.exportKey();
  return set;
}

/**
 * The `sub` of a JWT access token as the token endpoint handed it over (TLS, from the AS itself), used only to key
 * the store when no ID token was requested; an opaque token gives undefined. Nothing is authorized on it.
 */
function unverifiedSubject(accessToken: string): string | undefined {
  const jws = parseCompactJws(accessToken);
  const sub = jws.ok ? jws.payload['sub'] : undefined;
  return typeof sub === 'string' ? sub : undefined;
}
