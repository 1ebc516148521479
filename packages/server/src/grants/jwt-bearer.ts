import { GRANT_TYPE_JWT_BEARER, GRANT_TYPE_JWT_DPOP, ID_JAG_TYP, normalizeTyp, parseCompactJws } from '@mandate/protocol';
import type { JWTPayload } from 'jose';
import type { TrustedIssuerConfig } from '../config.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { CLIENT_ASSERTION_ALGS } from '../oauth/client-jwks.ts';
import { invalidGrant, invalidRequest, OAuthError, unauthorizedClient } from '../oauth/oauth-error.ts';
import { canonicalResourceUri } from '../oauth/resource-uri.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import { decideClientScopes } from '../policy/scope-policy.ts';
import { decideTargets, NO_RESOURCES, type Party, TARGET_POLICIES, type TargetFacts } from '../policy/token-targets.ts';
import type { ClientRecord, ReplayRecords, ResourceRecords, UserGrantRecord, UserGrantRecords, UserRecords } from '../store/store.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import { hashSecret, newId } from '../tokens/secret.ts';
import { normalizeEmail } from '../users/email-address.ts';
import { type Grant, type GrantInput, type GrantResult, tokenTypeFor } from './grant.ts';
import { lookUpResources } from './registered-resources.ts';

/**
 * RFC 7523 §2.1 and §3: a JWT from a trusted issuer (`crossDomain.trustedIssuers`) as an authorization grant. The
 * other domain's authorization server made it: an identity chaining grant (draft-ietf-oauth-identity-chaining
 * §2.4), an ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant §5, `typ: oauth-id-jag+jwt`), or a workload's
 * JWT (MCP SEP-1933). Checked, in this order, each refusal `invalid_grant` with its reason unless said otherwise:
 *
 * 1. a JWT whose `iss` is a trusted issuer, not this server (an ID-JAG is never redeemed at its own IdP) (IC-04);
 * 2. its `typ`: `oauth-id-jag+jwt` is an ID-JAG, a typed token of another kind (`at+jwt`, `dpop+jwt`, …) is no
 *    grant; the issuer must be trusted for that kind; the client must be one the issuer lists, if it lists any
 *    (`unauthorized_client`), and a public client only then;
 * 3. the signature, by the issuer's keys (inline, or its `jwksUri` through the SSRF-checked fetch), with an
 *    asymmetric algorithm; `exp` required, `nbf`, with the clock skew on the injected clock;
 * 4. `aud`: an ID-JAG names our issuer alone (JAG-03); another grant names our issuer or token endpoint and
 *    nothing else (RFC 7523 §3 item 3, held tight as for client assertions);
 * 5. `iat` not in the future, lifetime (exp − iat) at most the issuer's or the configured maximum;
 * 6. `jti` present (every grant is single use here), `sub` accepted, `client_id` (required in an ID-JAG) the
 *    authenticated client (JAG-03); `cnf.jkt` proven by the request's DPoP proof (JAG-05);
 * 7. the subject mapped to ours (`email`, `linked` or `sub`), or refused (IC-05);
 * 8. targets by `policy/token-targets.ts` (`jwt_bearer`): the client's allowance, the issuer's `scopes`, the
 *    assertion's `scope` and `resource`; scope policies that need an approval or a role refuse (`invalid_scope`);
 * 9. the `jti` consumed in the replay markers every instance shares (IC-06, JAG acceptance: a replay is refused);
 * 10. for a subject mapped to a local user, a user grant recorded (the token's `gid`): the token then lives only as
 *     long as that user, the client and the grant (lifecycle/token-lifecycle.ts), so disabling or deleting the user
 *     here, or revoking the grant (/account, the console), ends it at once, and re-enabling does not revive it;
 * 11. an access token minted; no refresh token (identity chaining §2.4, ID-JAG §5: the client presents a new grant).
 *
 * `jwt-dpop` (draft-parecki-oauth-jwt-dpop-grant) is the same grant under the name the ID-JAG draft's example uses
 * (specs.md §8 item 4: accept both): a client holding `jwt-bearer` may use it, and it requires a DPoP proof.
 */

type Jwks = NonNullable<ClientRecord['jwks']>;

export interface JwtBearerDeps {
  keys: KeyRing;
  issuer: string;
  tokenEndpoint: string;
  trustedIssuers: readonly TrustedIssuerConfig[];
  /** A trusted issuer's keys for an assertion's `kid` (flows/trusted-issuer-keys.ts, wired by the app). */
  issuerKeys: (issuer: TrustedIssuerConfig, kid: string | undefined) => Promise<{ ok: true; jwks: Jwks } | { ok: false; reason: string; description?: string }>;
  replay: Pick<ReplayRecords, 'consumeOnce'>;
  /** Where the user grant of a token for a local user is recorded (step 10). */
  grants: Pick<UserGrantRecords, 'createGrant'>;
  users: Pick<UserRecords, 'getUser' | 'getUserByEmail' | 'getIdentity'>;
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
  clockSkewSeconds: number;
  assertionMaxTtlSeconds: number;
  defaultAccessTokenTtlSeconds: number;
  maxAccessTokenTtlSeconds: number;
}

export interface JwtBearerRequest {
  assertion: string;
  /** Canonical `resource` URIs (RFC 8707). */
  resources: string[];
  scopes: string[] | undefined;
}

/** Typed JWTs that are something else than an authorization grant (RFC 8725 §3.11: explicit typing). */
const NOT_GRANTS = new Set(['at+jwt', 'dpop+jwt', 'txntoken+jwt', 'client-authentication+jwt', 'secevent+jwt', 'logout+jwt', 'token-introspection+jwt']);

/** Why jose refused an assertion, in words for the client. */
function verificationFailure(err: unknown, joseErrors: typeof import('jose').errors): string {
  if (err instanceof joseErrors.JWTExpired) return 'the assertion has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'the assertion is not valid yet (nbf)';
    if (err.reason === 'missing') return `the assertion has no ${err.claim}`;
    return `the assertion’s ${err.claim} is not acceptable`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the assertion’s signature does not verify with its issuer’s keys';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return `the assertion’s algorithm is not one of ${CLIENT_ASSERTION_ALGS.join(', ')}`;
  if (err instanceof joseErrors.JOSEError) return `the assertion does not verify (${err.code})`;
  throw err;
}

export function jwtBearerGrant(deps: JwtBearerDeps): Grant<JwtBearerRequest> {
  const ourAudiences = [deps.issuer, deps.tokenEndpoint];

  /** Steps 1–2: the trusted issuer and the kind of assertion, before any key is fetched. */
  function trustOf(assertion: string, client: ClientRecord, publicClient: boolean) {
    const parsed = parseCompactJws(assertion);
    if (!parsed.ok) throw invalidGrant('assertion is not a JWT');
    const { header } = parsed;
    const claims: JWTPayload = parsed.payload;
    const iss = claims.iss;
    if (typeof iss !== 'string' || iss === '') throw invalidGrant('the assertion has no iss');
    if (iss === deps.issuer) throw invalidGrant('an assertion this server issued is not an authorization grant here');
    const trusted = deps.trustedIssuers.find((entry) => entry.issuer === iss);
    if (!trusted) throw invalidGrant(`assertions of ${iss} are not trusted here`);
    const typ = typeof header.typ === 'string' ? normalizeTyp(header.typ) : undefined;
    const kind = typ === ID_JAG_TYP ? 'id-jag' : 'jwt';
    if (typ !== undefined && NOT_GRANTS.has(typ)) throw invalidGrant(`a ${typ} token is not an authorization grant`);
    if (!trusted.assertions.includes(kind)) throw invalidGrant(`${iss} is not trusted for ${kind === 'id-jag' ? 'ID-JAGs' : 'JWT authorization grants other than ID-JAGs'}`);
    const listed = trusted.clients?.includes(client.clientId) ?? false;
    if (trusted.clients !== undefined && !listed) throw unauthorizedClient(`this client may not present assertions of ${iss}`);
    if (publicClient && !listed) throw unauthorizedClient(`a public client presents assertions of ${iss} only where the trusted issuer lists it`);
    return { trusted, kind, kid: typeof header.kid === 'string' ? header.kid : undefined } as const;
  }

  /** Steps 3–6: signature and claims. */
  async function verify(assertion: string, trust: ReturnType<typeof trustOf>, client: ClientRecord, now: number, dpopJkt: string | undefined): Promise<JWTPayload & { exp: number; sub: string; jti: string }> {
    const { trusted, kind } = trust;
    // Loaded at the first assertion: a deployment without trusted issuers never holds jose (idle memory).
    const { createLocalJWKSet, errors: joseErrors, jwtVerify } = await import('jose');
    const keys = await deps.issuerKeys(trusted, trust.kid);
    if (!keys.ok) throw invalidGrant(keys.description ?? `the keys of ${trusted.issuer} could not be obtained`, keys.reason);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, createLocalJWKSet(keys.jwks as Parameters<typeof createLocalJWKSet>[0]), {
        algorithms: [...CLIENT_ASSERTION_ALGS],
        issuer: trusted.issuer,
        requiredClaims: ['exp', 'sub', 'aud'],
        currentDate: new Date(now * 1000),
        clockTolerance: deps.clockSkewSeconds,
      }));
    } catch (err) {
      throw invalidGrant(verificationFailure(err, joseErrors));
    }
    const aud = [payload.aud].flat();
    if (kind === 'id-jag') {
      // JAG-03: the RAS issuer, a string or a one-element array; nothing else.
      if (aud.length !== 1 || aud[0] !== deps.issuer) throw invalidGrant(`the ID-JAG’s aud must be this server’s issuer (${deps.issuer}) alone`);
    } else if (aud.length === 0 || !aud.every((value) => typeof value === 'string' && ourAudiences.includes(value))) {
      throw invalidGrant(`the assertion’s aud must be this server’s issuer or token endpoint, and nothing else`);
    }
    const exp = payload.exp!;
    if (payload.iat !== undefined && payload.iat > now + deps.clockSkewSeconds) throw invalidGrant('the assertion’s iat is in the future');
    // The user's grant keeps it (whole seconds): a time in the future, or past what the column holds, is no
    // authentication time (an auth_time of 1e20 gave a 500, SR-FUZZ-03).
    const authTime = payload['auth_time'];
    if (authTime !== undefined && (typeof authTime !== 'number' || !(authTime >= 0) || authTime > now + deps.clockSkewSeconds)) {
      throw invalidGrant('the assertion’s auth_time must be a time (NumericDate) not in the future');
    }
    const maxTtl = trusted.maxAssertionLifetimeSeconds ?? deps.assertionMaxTtlSeconds;
    if (exp - Math.min(payload.iat ?? now, now) > maxTtl) throw invalidGrant(`the assertion lives longer than ${maxTtl} seconds`);
    if (typeof payload.jti !== 'string' || payload.jti === '') throw invalidGrant('the assertion has no jti: every grant is single use here');
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '') throw invalidGrant('the assertion has no sub');
    if (trusted.subjects !== undefined && !trusted.subjects.includes(sub)) throw invalidGrant(`subject ${sub} of ${trusted.issuer} is not accepted here`);
    const clientId = payload['client_id'];
    if (kind === 'id-jag' && clientId === undefined) throw invalidGrant('the ID-JAG has no client_id');
    if (clientId !== undefined && clientId !== client.clientId) throw invalidGrant('the assertion was issued for another client (client_id)');
    // JAG-05: a key-bound grant is redeemed only with a proof of that key.
    const cnf = payload['cnf'] as { jkt?: unknown } | undefined;
    if (cnf !== undefined && cnf.jkt !== undefined) {
      if (dpopJkt === undefined) throw invalidGrant('the assertion is bound to a DPoP key (cnf.jkt): send a DPoP proof made with it');
      if (dpopJkt !== cnf.jkt) throw invalidGrant('the DPoP proof is not made with the key the assertion is bound to');
    }
    return payload as JWTPayload & { exp: number; sub: string; jti: string };
  }

  /** Step 7 (IC-05): the assertion's subject as ours, and whether it is a local user (who then gets a grant). */
  async function localSubject(trusted: TrustedIssuerConfig, claims: JWTPayload & { sub: string }): Promise<{ subject: string; isUser: boolean }> {
    if (trusted.subject === 'sub') return { subject: claims.sub, isUser: false };
    let userId: string | null = null;
    if (trusted.subject === 'linked') {
      userId = (await deps.users.getIdentity(trusted.issuer, claims.sub))?.userId ?? null;
    } else {
      const email = typeof claims['email'] === 'string' ? normalizeEmail(claims['email']) : null;
      if (email === null) throw invalidGrant('the assertion has no email, by which its subject is found here');
      userId = email.ok ? ((await deps.users.getUserByEmail(email.email))?.id ?? null) : null;
    }
    const user = userId === null ? null : await deps.users.getUser(userId);
    if (!user || user.status !== 'active') throw invalidGrant(`the assertion’s subject is not a user here (by ${trusted.subject === 'linked' ? 'linked account' : 'email'})`);
    return { subject: user.id, isUser: true };
  }

  /** The assertion's `resource` (a string or an array, RFC 8707 URIs), canonical; undefined without one. */
  function assertedResources(claims: JWTPayload): string[] | undefined {
    const value = claims['resource'];
    if (value === undefined) return undefined;
    const list = [value].flat();
    const uris = list.map((uri) => (typeof uri === 'string' ? canonicalResourceUri(uri) : null));
    if (uris.some((uri) => uri === null)) throw invalidGrant('the assertion’s resource is not a list of absolute URIs');
    return uris as string[];
  }

  /** Step 8: resources and scopes within the client's, the issuer's and the assertion's allowance. */
  async function decide(client: ClientRecord, trusted: TrustedIssuerConfig, claims: JWTPayload, request: JwtBearerRequest, now: number) {
    const scopes = typeof claims['scope'] === 'string' ? claims['scope'].split(' ').filter(Boolean) : undefined;
    const resources = assertedResources(claims);
    const clientParty: Party = { label: 'this client', kind: client.kind, allowedScopes: client.allowedScopes, allowedAudiences: client.allowedAudiences, defaultScopes: client.defaultScopes };
    const parties: Party[] = [
      clientParty,
      { label: `the trusted issuer ${trusted.issuer}`, kind: client.kind, allowedScopes: trusted.scopes ?? client.allowedScopes, allowedAudiences: client.allowedAudiences },
      { label: 'the assertion', kind: client.kind, allowedScopes: scopes ?? client.allowedScopes, allowedAudiences: resources ?? client.allowedAudiences },
    ];
    const facts: TargetFacts = {
      requestedResources: request.resources.length > 0 ? request.resources : (resources ?? []),
      requestedScopes: request.scopes ?? scopes,
      parties,
      registered: NO_RESOURCES,
    };
    const policy = TARGET_POLICIES.jwt_bearer;
    facts.registered = await lookUpResources(policy.lookUp(facts), deps.resources);
    const targets = decideTargets(policy, facts);
    if (!targets.ok) throw new OAuthError(targets.error, targets.description);
    const decided = await decideClientScopes(client.clientId, targets, facts.registered, now);
    // No approval queue across domains: the other domain's grant is the whole authorization.
    if (!decided.ok) throw new OAuthError('invalid_scope', decided.description);
    return { ...targets, maxLifetimeSeconds: decided.maxLifetimeSeconds };
  }

  async function handle({ client: { client, method }, request, now, dpopJkt }: GrantInput<JwtBearerRequest>): Promise<GrantResult> {
    const trust = trustOf(request.assertion, client, method === 'none');
    const claims = await verify(request.assertion, trust, client, now, dpopJkt);
    const { subject, isUser } = await localSubject(trust.trusted, claims);
    const targets = await decide(client, trust.trusted, claims, request, now);
    // Single use, on every instance: the marker outlives the assertion's acceptance window.
    const marker = `jwt_bearer:${hashSecret(`${trust.trusted.issuer}\u0000${claims.jti}`)}`;
    if (!(await deps.replay.consumeOnce(marker, claims.exp + deps.clockSkewSeconds, now))) throw invalidGrant('the assertion was used before');
    const ttlSeconds = Math.min(client.accessTokenTtlSeconds ?? deps.defaultAccessTokenTtlSeconds, deps.maxAccessTokenTtlSeconds, targets.maxLifetimeSeconds ?? Infinity);
    // Step 10: the user's grant, ending with the token (no refresh token outlives it).
    const grant: UserGrantRecord | null = isUser
      ? {
          id: newId('grt'),
          userId: subject,
          clientId: client.clientId,
          actorId: null,
          scopes: targets.scopes,
          resources: targets.resources,
          authTime: typeof claims['auth_time'] === 'number' ? Math.floor(claims['auth_time']) : now,
          amr: [],
          status: 'active',
          createdAt: now,
          expiresAt: now + ttlSeconds,
          revokedAt: null,
        }
      : null;
    if (grant) await deps.grants.createGrant(grant);
    const minted = await mintAccessToken(
      { subject, subjectIsAgent: false, clientId: client.clientId, audience: targets.resources, scopes: targets.scopes, ttlSeconds, dpopJkt, ...(grant ? { grantId: grant.id } : {}) },
      { keys: deps.keys, issuer: deps.issuer, now },
    );
    const scope = minted.claims.scope ?? '';
    return {
      response: { access_token: minted.token, token_type: tokenTypeFor(dpopJkt), expires_in: minted.expiresIn, scope },
      audit: {
        event: 'token.issued',
        actor: client.clientId,
        subject,
        clientId: client.clientId,
        detail: {
          grant_type: GRANT_TYPE_JWT_BEARER,
          assertion: trust.kind,
          assertion_iss: trust.trusted.issuer,
          assertion_sub: claims.sub,
          assertion_jti: claims.jti,
          ...(grant ? { grant_id: grant.id } : {}),
          jti: minted.claims.jti,
          aud: minted.claims.aud,
          scope,
          exp: minted.claims.exp,
        },
      },
    };
  }

  const parse: Grant<JwtBearerRequest>['parse'] = (params) => {
    const assertion = params.get('assertion');
    if (!assertion) throw invalidRequest('assertion is required');
    return { assertion, resources: parseResourceParameters(params), scopes: parseScope(params.get('scope')) };
  };
  return { grantType: GRANT_TYPE_JWT_BEARER, repeatable: new Set(['resource']), parse, handle };
}

/** The `jwt-dpop` alias of a `jwt-bearer` grant: held as `jwt-bearer`, and only with a DPoP proof. */
export function jwtDpopGrant(jwtBearer: Grant<JwtBearerRequest>): Grant<JwtBearerRequest> {
  return {
    ...jwtBearer,
    grantType: GRANT_TYPE_JWT_DPOP,
    heldAs: GRANT_TYPE_JWT_BEARER,
    async handle(input) {
      if (input.dpopJkt === undefined) throw new OAuthError('invalid_dpop_proof', `${GRANT_TYPE_JWT_DPOP} needs a DPoP proof`);
      const result = await jwtBearer.handle(input);
      return { ...result, audit: { ...result.audit, detail: { ...result.audit.detail, grant_type: GRANT_TYPE_JWT_DPOP } } };
    },
  };
}
