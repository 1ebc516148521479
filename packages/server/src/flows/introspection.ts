import type { KeyRing } from '../keys/key-ring.ts';
import { type AccessTokenLife, accessTokenLife, type TokenLifecycleDeps } from '../lifecycle/token-lifecycle.ts';
import { type TxnTokenLifeDeps, verifyLiveTxnToken } from '../lifecycle/transaction-token-life.ts';
import { bearerCredential } from '../oauth/bearer-token.ts';
import { authenticateClient, type ClientAuthDeps, type PresentedCredentials } from '../oauth/client-authentication.ts';
import type { FormParams } from '../oauth/form-params.ts';
import { invalidClient, OAuthError } from '../oauth/oauth-error.ts';
import { authenticateResource, presentedResourceKey } from '../oauth/resource-authentication.ts';
import type { AdminTokenRecords, ResourceRecords } from '../store/store.ts';
import type { AccessTokenClaims } from '@mandate/protocol';
import { authenticateAdminToken } from '../tokens/admin-token.ts';
import { verifyOwnAccessToken } from '../tokens/own-token.ts';
import { ADMIN_TOKEN_PREFIX } from '../tokens/secret.ts';
import { VerifiedTokenCache } from '../tokens/verified-token-cache.ts';
import { readCacheGeneration } from '../store/read-cache.ts';

export interface IntrospectionDeps {
  resources: Pick<ResourceRecords, 'getResourceByApiKeyId'>;
  adminTokens: Pick<AdminTokenRecords, 'getAdminToken'>;
  clientAuth: ClientAuthDeps;
  keys: KeyRing;
  issuer: string;
  lifecycle: TokenLifecycleDeps;
  /** Transaction Tokens of this trust domain (issue 11 item 5), introspected by its resource servers and admins. */
  transactionTokens?: TxnTokenLifeDeps;
}

/** Who is asking. RFC 7662 §2.1 requires authorization; each kind sees a different slice of tokens. */
export type IntrospectionCaller = { kind: 'resource'; uri: string } | { kind: 'client'; clientId: string } | { kind: 'admin'; tokenId: string };

/** RFC 7662 §2.2: the answer for any token the caller may not learn about. */
export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

const INACTIVE: IntrospectionResponse = Object.freeze({ active: false });
/** Lifecycle decisions kept for repeated tokens (as many as signatures remembered). */
const MAX_LIVES = 10_000;

export const bearerRefused = () =>
  new OAuthError('invalid_client', 'caller authentication failed', {
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="mandate", error="invalid_token"' },
  });

/** RFC 7662 §2.2: a caller learns about a token only if it is meant for it (its audience, or its own token). */
function mayInspect(caller: IntrospectionCaller, claims: AccessTokenClaims, audiences: string | readonly string[]): boolean {
  switch (caller.kind) {
    case 'admin':
      return true;
    case 'client':
      return claims.client_id === caller.clientId;
    case 'resource':
      return typeof audiences === 'string' ? audiences === caller.uri : audiences.includes(caller.uri);
  }
}

/**
 * RFC 7662 token introspection. Callers are resource servers (their API key as a bearer credential), confidential
 * clients (any client authentication method) or admins. Inactive, unknown, expired, revoked, foreign, malformed or
 * wrongly signed tokens, and tokens whose chain no longer stands (lifecycle/token-lifecycle.ts), all answer exactly
 * `{"active": false}`. An active token is reported with what it may still carry: `scope` and `aud` less what its
 * client and agents lost since (SR-02), so a resource that drops from `aud` no longer sees it. Signature checks
 * are cached by the token's SHA-256 until it expires; the chain's decision is reused only within the same second and
 * while the read cache's generation is unchanged (see `liveState`), so a revocation or disable is seen at the next call.
 */
export function introspectionFlow(deps: IntrospectionDeps) {
  const verified = new VerifiedTokenCache<AccessTokenClaims>();
  /**
   * A repeated token's lifecycle decision, reused only within the same second and while the read cache's generation
   * is unchanged: every read it made (revocation, parties, grant, resource servers) would answer the same, so it would
   * decide the same. A revocation or disable through any instance or process changes the generation (a write here
   * clears the cache; another's commit is seen by the version check), so the next call decides anew.
   */
  const generation = readCacheGeneration(deps.lifecycle.revocations);
  const lives = new Map<string, { generation: number; now: number; life: AccessTokenLife }>();

  async function liveState(cacheKey: string, claims: AccessTokenClaims, now: number): Promise<AccessTokenLife> {
    if (!generation) return accessTokenLife(claims, deps.lifecycle, now);
    const read = generation();
    const current = typeof read === 'number' ? read : await read;
    const known = lives.get(cacheKey);
    if (known && known.generation === current && known.now === now) return known.life;
    const life = await accessTokenLife(claims, deps.lifecycle, now);
    if (lives.size >= MAX_LIVES) lives.clear();
    lives.set(cacheKey, { generation: current, now, life });
    return life;
  }

  /**
   * A Txn-Token: it names no resource and no client, it is meant for every workload of the trust domain, so any
   * resource server (and an admin) may learn about it; clients may not (it is no credential of theirs). Active while
   * its whole chain is (lifecycle/transaction-token-life.ts).
   */
  async function introspectTxnToken(caller: IntrospectionCaller, token: string, now: number): Promise<IntrospectionResponse> {
    if (!deps.transactionTokens || caller.kind === 'client') return INACTIVE;
    const live = await verifyLiveTxnToken(token, deps.transactionTokens, now);
    if (!live.ok) return INACTIVE;
    const { claims } = live;
    return {
      active: true,
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      txn: claims.txn,
      scope: claims.scope,
      req_wl: claims.req_wl,
      token_type: 'N_A',
      ...(claims.tctx !== undefined && { tctx: claims.tctx }),
      ...(claims.rctx !== undefined && { rctx: claims.rctx }),
    };
  }

  return {
    async authenticateCaller(credentials: PresentedCredentials, now: number): Promise<IntrospectionCaller> {
      const bearer = bearerCredential(credentials.authorization);
      if (bearer !== undefined) {
        const resourceKey = presentedResourceKey(credentials.authorization);
        if (resourceKey) {
          const resource = await authenticateResource(resourceKey, deps, now);
          if (!resource) throw bearerRefused();
          return { kind: 'resource', uri: resource.uri };
        }
        if (bearer.startsWith(`${ADMIN_TOKEN_PREFIX}_`)) {
          // Roles deny by default: only an `admin` token introspects.
          const token = await authenticateAdminToken(bearer, deps.adminTokens);
          if (!token || token.role !== 'admin') throw bearerRefused();
          return { kind: 'admin', tokenId: token.id };
        }
        throw bearerRefused();
      }
      const { client, method } = await authenticateClient(credentials, deps.clientAuth, now);
      if (method === 'none') throw invalidClient('public clients may not introspect tokens');
      return { kind: 'client', clientId: client.clientId };
    },

    parse: (params: FormParams): { token: string } => ({ token: params.required('token') }),

    async introspect({ caller, token, now }: { caller: IntrospectionCaller; token: string; now: number }): Promise<IntrospectionResponse> {
      const cacheKey = VerifiedTokenCache.keyOf(token);
      let claims = verified.get(cacheKey, now);
      if (!claims) {
        const result = await verifyOwnAccessToken(token, { keys: deps.keys, issuer: deps.issuer, now });
        if (!result.ok) return result.reason === 'invalid' ? introspectTxnToken(caller, token, now) : INACTIVE;
        claims = result.claims;
        verified.set(cacheKey, claims, claims.exp);
      }
      if (!mayInspect(caller, claims, claims.aud)) return INACTIVE;
      const life = await liveState(cacheKey, claims, now);
      if (!life.alive || !mayInspect(caller, claims, life.audiences)) return INACTIVE;
      // The token's own shape: a single audience stays a string (RFC 7519 §4.1.3).
      const aud = typeof claims.aud === 'string' ? life.audiences[0]! : life.audiences;
      return {
        active: true,
        iss: claims.iss,
        sub: claims.sub,
        aud,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        client_id: claims.client_id,
        token_type: claims.cnf ? 'DPoP' : 'Bearer',
        ...(claims.scope !== undefined && { scope: life.scopes.join(' ') }),
        ...(claims.sub_profile !== undefined && { sub_profile: claims.sub_profile }),
        ...(claims.act !== undefined && { act: claims.act }),
        ...(claims.cnf !== undefined && { cnf: claims.cnf }),
        ...(claims.auth_time !== undefined && { auth_time: claims.auth_time }),
        // RFC 9396 §9.2.
        ...(claims.authorization_details !== undefined && { authorization_details: claims.authorization_details }),
      };
    },
  };
}

export type IntrospectionFlow = ReturnType<typeof introspectionFlow>;
