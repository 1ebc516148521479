import {
  type ActClaim,
  GRANT_TYPE_TOKEN_EXCHANGE,
  type MayActClaim,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_ID_TOKEN,
  TOKEN_TYPE_JWT,
} from '@mandate/protocol';
import type { KeyRing } from '../keys/key-ring.ts';
import { actClaim, verifyActorToken } from '../lifecycle/actor-token.ts';
import { type GrantLife, type TokenLifecycleDeps, verifyLiveAccessToken, verifyLiveIdToken } from '../lifecycle/token-lifecycle.ts';
import type { ClientAuthDeps } from '../oauth/client-authentication.ts';
import { invalidRequest, OAuthError } from '../oauth/oauth-error.ts';
import { canonicalResourceUri } from '../oauth/resource-uri.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import { decideChainPolicies, delegationStep } from '../policy/chain-policy.ts';
import { decideDelegation } from '../policy/delegation.ts';
import { decideExchangeBinding } from '../policy/dpop-binding.ts';
import { chainDepth, decideScopes } from '../policy/scope-policy.ts';
import { classifyExchangeAudiences } from '../policy/token-audiences.ts';
import { decideTargets, type Party, TARGET_POLICIES } from '../policy/token-targets.ts';
import type { ClientRecord, ClientRecords, DelegationPolicyRecords, ResourceRecords, RevocationRecords, UserRecords } from '../store/store.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import type { VerifiedAccessToken } from '../tokens/own-token.ts';
import { VerifiedTokenCache } from '../tokens/verified-token-cache.ts';
import { type Grant, type GrantInput, type GrantResult, tokenTypeFor } from './grant.ts';
import { lookUpResources } from './registered-resources.ts';
import { ACTION_TOKEN_NOT_EXCHANGED, isActionToken } from '../policy/action-approval.ts';

export interface TokenExchangeDeps {
  keys: KeyRing;
  issuer: string;
  clients: Pick<ClientRecords, 'getClient'>;
  /** The user at the root of a chain, read only when a scope's policy requires a role. */
  users: Pick<UserRecords, 'getUser'>;
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
  lifecycle: TokenLifecycleDeps;
  /** The delegation-chain policies of resources and agents (issue 11 item 1). */
  policies: Pick<DelegationPolicyRecords, 'getDelegationPolicy'>;
  /** Where each exchanged token's parents are recorded, so revoking one revokes it (token lineage). */
  lineage: Pick<RevocationRecords, 'recordDerivation'>;
  /** For an `actor_token` that is the agent's client assertion (SR-04). */
  clientAuth: ClientAuthDeps;
  defaultAccessTokenTtlSeconds: number;
  maxAccessTokenTtlSeconds: number;
  maxChainDepth: number;
  allowImpersonation: boolean;
}

/** The proven actor: its `act` entry, how long its proof lasts, its record, and the actor token's `jti` (a lineage parent). */
interface Actor {
  act: ActClaim;
  exp: number;
  record: ClientRecord;
  form: string;
  jti: string | undefined;
  /** The actor token's `cnf.jkt` when it is DPoP-bound. */
  jkt: string | undefined;
}

/** What an exchange would issue, or why not: the admin API's dry run (`check`), which mints and records nothing. */
export type ExchangeDryRun =
  | { allowed: true; token: { sub: string; client_id: string; aud: string[]; scope: string; act?: ActClaim; may_act?: { sub: string }; exp: number; gid?: string } }
  | { allowed: false; error: string; error_description: string };

/** What the exchange needs to know about the subject token, whichever type it was. */
interface Subject {
  sub: string;
  subProfile: string | undefined;
  clientId: string;
  aud: string[];
  scopes: string[];
  act: ActClaim | undefined;
  mayAct: MayActClaim | undefined;
  exp: number;
  gid: string | undefined;
  authTime: number | undefined;
  jti: string;
  /** The user grant the token derives from, alive, when it carries `gid`. */
  grant: Extract<GrantLife, { alive: true }> | null;
  /** `cnf.jkt` when the subject token is DPoP-bound. */
  jkt: string | undefined;
}

export interface TokenExchangeRequest {
  subjectToken: string;
  subjectTokenType: typeof TOKEN_TYPE_ACCESS_TOKEN | typeof TOKEN_TYPE_JWT | typeof TOKEN_TYPE_ID_TOKEN;
  /** The actor's own access token; absent for impersonation. */
  actorToken: string | undefined;
  requestedTokenType: typeof TOKEN_TYPE_ACCESS_TOKEN | typeof TOKEN_TYPE_JWT;
  /** Canonical `resource` URIs (RFC 8707). */
  resources: string[];
  /** `audience` values as sent, each with its canonical URI when it is one: a resource, or an agent's id. */
  audiences: { value: string; canonicalUri: string | null }[];
  /** Undefined when the request has no `scope`. */
  scopes: string[] | undefined;
}

const isTokenType = <T extends string>(types: readonly T[], value: string | undefined): value is T => types.includes(value as T);

/**
 * RFC 8693 token exchange, as named steps: check the parameters (TE-01, TE-02) → verify the subject token, ours and
 * active (access token, or ID token whose scopes are its grant's) (TE-03) → verify the actor token: the exchanging
 * client's own token for this server or its client assertion (lifecycle/actor-token.ts, SR-04) → decide the delegation chain (policy/delegation.ts: impersonation rule,
 * `may_act`, audience binding, nesting, depth) → decide targets by `policy/token-targets.ts` (`token_exchange`, or
 * `token_exchange_hand_off` when the audience is an agent) → mint, expiring no later than the subject (or actor)
 * token. No refresh token (TE-09).
 */
export function tokenExchangeGrant(deps: TokenExchangeDeps): Grant<TokenExchangeRequest> & { check: (input: { actor: ClientRecord; request: TokenExchangeRequest; now: number }) => Promise<ExchangeDryRun> } {
  // Subject and actor tokens come back again and again (an agent's actor token until it expires, a hand-off
  // exchanged for each downstream call): their signatures are checked once; their life at every exchange.
  const verified = new VerifiedTokenCache<VerifiedAccessToken>();

  /** The subject token, alive, with what it may still carry (SR-02: the current allowance of its chain). */
  async function verifySubject(token: string, type: TokenExchangeRequest['subjectTokenType'], now: number): Promise<Subject> {
    const own = { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle, verified };
    if (type === TOKEN_TYPE_ACCESS_TOKEN || type === TOKEN_TYPE_JWT) {
      const result = await verifyLiveAccessToken(token, own);
      if (!result.ok) throw invalidRequest(`subject_token is not valid (${result.reason})`);
      if (isActionToken(result.claims)) throw invalidRequest(ACTION_TOKEN_NOT_EXCHANGED);
      const c = result.claims;
      return {
        sub: c.sub, subProfile: c.sub_profile, clientId: c.client_id, aud: result.life.audiences, scopes: result.life.scopes,
        // A replaced resource-server key in its chain ends it at its grace period's end: so does every child.
        act: c.act, mayAct: c.may_act, exp: Math.min(c.exp, result.life.notAfter ?? Infinity), gid: c.gid, authTime: c.auth_time, jti: c.jti, jkt: c.cnf?.jkt,
        grant: result.life.grant?.alive ? result.life.grant : null,
      };
    }
    // An ID token (the only other type parse admits).
    const result = await verifyLiveIdToken(token, own);
    if (!result.ok) throw invalidRequest(`subject_token is not valid (${result.reason})`);
    const c = result.claims;
    // An ID token carries no scope: what its grant may still give is the ceiling, never "anything".
    const grant = result.grant?.alive ? result.grant : null;
    const scopes = grant ? grant.scopes : [];
    return { sub: c.sub, subProfile: undefined, clientId: c.aud, aud: [c.aud], scopes, act: undefined, mayAct: undefined, exp: c.exp, gid: c.gid, authTime: c.auth_time, jti: c.jti, grant, jkt: undefined };
  }

  /** SR-04: the actor proves itself with a token for this server or its own client assertion, held by the exchanging client. */
  async function verifyActor(token: string, client: ClientRecord, now: number): Promise<Actor> {
    const proof = await verifyActorToken(token, { live: { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle, verified }, clientAuth: deps.clientAuth });
    if (!proof.ok) throw invalidRequest(`actor_token is not valid: ${proof.reason}`, `actor_token refused: ${proof.reason}`);
    if (proof.record.clientId !== client.clientId) throw invalidRequest('actor_token must be the exchanging client’s own token for this authorization server, or its client assertion', `actor_token of ${proof.record.clientId}`);
    // A client assertion is a one-time proof, not a credential with a lifetime of its own to pass on.
    return proof.form === 'access_token' ? proof : { ...proof, exp: Infinity, jti: undefined, jkt: undefined };
  }

  /**
   * SR-10: with impersonation allowed, a subject token of an on-behalf-of grant whose chain does not name the
   * grant's agent (an ID token) keeps that agent as the actor: the new token speaks for the agent, so disabling the
   * agent ends it at every use, like every other token of the grant.
   */
  function actOfImpersonation(subject: Subject, act: ActClaim | undefined): ActClaim | undefined {
    const agentId = subject.grant?.grant.actorId;
    if (act || !agentId) return act;
    return { sub: agentId, client_id: agentId, sub_profile: 'ai_agent' };
  }

  /** Each `audience` that is not a registered resource, looked up as a client: it must be an active agent. */
  async function audienceClients(request: TokenExchangeRequest, registered: ReadonlyMap<string, unknown>): Promise<Map<string, ClientRecord | null>> {
    const clients = new Map<string, ClientRecord | null>();
    for (const { value, canonicalUri } of request.audiences) {
      if (!(canonicalUri && registered.has(canonicalUri)) && !clients.has(value)) clients.set(value, await deps.clients.getClient(value));
    }
    return clients;
  }

  /**
   * Everything an exchange decides before it mints, for `handle` and for the dry run (`check`): the subject, the
   * chain, the targets, the chain policies and the lifetime. Throws the refusal.
   */
  async function decide(client: ClientRecord, request: TokenExchangeRequest, actor: Actor | null, now: number) {
    const subject = await verifySubject(request.subjectToken, request.subjectTokenType, now);
    const delegation = decideDelegation({
      subject: { sub: subject.sub, clientId: subject.clientId, aud: subject.aud, act: subject.act, mayAct: subject.mayAct },
      actor: actor?.act ?? null,
      clientId: client.clientId,
      maxDepth: deps.maxChainDepth,
      allowImpersonation: deps.allowImpersonation,
    });
    if (!delegation.ok) throw invalidRequest(delegation.description);

    // Targets: registered resources the actor may use or the subject already targets, or one agent (a hand-off).
    const acting = actor?.record ?? client;
    const parties: Party[] = [{ label: 'this actor', kind: acting.kind, allowedScopes: acting.allowedScopes, allowedAudiences: acting.allowedAudiences }];
    // SR-03: a user grant at the root bounds every resource by what the user consented to.
    const source = { resources: subject.aud, scopes: subject.scopes, ...(subject.gid !== undefined ? { consented: subject.grant?.resources ?? [] } : {}) };
    const audienceUris = request.audiences.flatMap((a) => (a.canonicalUri ? [a.canonicalUri] : []));
    const policy = TARGET_POLICIES.token_exchange;
    const registered = await lookUpResources(
      policy.lookUp({ requestedResources: [...request.resources, ...audienceUris], requestedScopes: request.scopes, parties, source }),
      deps.resources,
    );
    const classified = classifyExchangeAudiences(request.resources, request.audiences, { registered, agents: await audienceClients(request, registered) });
    if (!classified.ok) throw new OAuthError(classified.error, classified.description);
    const handOff = classified.handOff;
    const targets = decideTargets(handOff ? TARGET_POLICIES.token_exchange_hand_off : policy, {
      requestedResources: classified.resources,
      requestedScopes: request.scopes,
      parties,
      source,
      registered,
    });
    if (!targets.ok) throw new OAuthError(targets.error, targets.description);
    const act = delegation.impersonation ? actOfImpersonation(subject, delegation.act) : delegation.act;
    // Scope policies (issue 12 item 1): a user grant at the root was the consent; without one, the chain's clients
    // decide alone.
    const scopePolicies = await decideScopes({
      flow: subject.gid !== undefined ? 'user_grant' : 'client',
      scopes: targets.scopes,
      resources: targets.resources,
      registered,
      parties: [...new Set([client.clientId, subject.clientId, ...chainParties(act)])],
      userRoles: async () => (subject.gid !== undefined ? ((await deps.users.getUser(subject.sub))?.roles ?? []) : null),
      chainDepth: chainDepth(act),
      now,
    });
    if (!scopePolicies.ok) throw new OAuthError('invalid_scope', scopePolicies.description);

    const exp = Math.min(
      now + Math.min(acting.accessTokenTtlSeconds ?? deps.defaultAccessTokenTtlSeconds, deps.maxAccessTokenTtlSeconds, scopePolicies.maxLifetimeSeconds ?? Infinity),
      subject.exp,
      actor?.exp ?? Infinity,
    );

    // Issue 11 item 1: the chain policies of the target resources and of the agent handing the token on.
    // A person is at the root exactly when the chain starts from a user's grant (every user token carries `gid`).
    const token = { sub: subject.sub, ...(subject.subProfile ? { sub_profile: subject.subProfile } : {}), client_id: client.clientId, ...(act ? { act } : {}), person: subject.gid !== undefined };
    const step = handOff
      ? delegationStep({ sub: subject.sub, subProfile: subject.subProfile, act }, handOff.clientId)
      : act !== subject.act && act !== undefined
        ? delegationStep(subject, act.sub)
        : null;
    const [resourcePolicies, stepPolicy] = await Promise.all([
      Promise.all(targets.resources.map(async (uri) => [uri, await deps.policies.getDelegationPolicy('resource', uri)] as const)),
      step ? deps.policies.getDelegationPolicy('agent', step.from) : null,
    ]);
    const refusal = decideChainPolicies({ token, resources: new Map(resourcePolicies), step: step ? { ...step, policy: stepPolicy } : null });
    if (refusal) throw invalidRequest(refusal);
    return { subject, delegation, act, handOff, targets, exp };
  }

  return {
    grantType: GRANT_TYPE_TOKEN_EXCHANGE,
    repeatable: new Set(['resource', 'audience']),
    parse(params) {
      const subjectToken = params.get('subject_token');
      const subjectTokenType = params.get('subject_token_type');
      if (!subjectToken || !subjectTokenType) throw invalidRequest('subject_token and subject_token_type are required');
      const actorToken = params.get('actor_token');
      const actorTokenType = params.get('actor_token_type');
      // RFC 8693 §2.1: actor_token_type is required with actor_token and must not be sent without it.
      if ((actorToken === undefined) !== (actorTokenType === undefined)) throw invalidRequest('actor_token and actor_token_type go together');
      const requestedTokenType = params.get('requested_token_type') ?? TOKEN_TYPE_ACCESS_TOKEN;
      if (!isTokenType([TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT], requestedTokenType)) throw invalidRequest('requested_token_type must be access_token or jwt');
      if (!isTokenType([TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT, TOKEN_TYPE_ID_TOKEN], subjectTokenType)) throw invalidRequest('subject_token_type must be access_token, jwt or id_token');
      if (actorTokenType !== undefined && !isTokenType([TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT], actorTokenType)) throw invalidRequest('actor_token_type must be access_token or jwt');
      return {
        subjectToken,
        subjectTokenType,
        actorToken,
        requestedTokenType,
        resources: parseResourceParameters(params),
        audiences: params.getAll('audience').map((value) => ({ value, canonicalUri: canonicalResourceUri(value) })),
        scopes: parseScope(params.get('scope')),
      };
    },
    /**
     * The dry run: would `actor` (an agent, proving nothing: the admin vouches for it) be allowed this exchange, and
     * what token would it get? Every check of `handle` but the actor token's and the DPoP proof's; mints and records
     * nothing.
     */
    async check({ actor, request, now }) {
      try {
        const named: Actor = { act: actClaim(actor), exp: Infinity, record: actor, form: 'named by an admin', jti: undefined, jkt: undefined };
        const { subject, act, handOff, targets, exp } = await decide(actor, request, named, now);
        const aud = handOff ? [handOff.clientId] : targets.resources;
        return {
          allowed: true,
          token: { sub: subject.sub, client_id: actor.clientId, aud, scope: targets.scopes.join(' '), ...(act ? { act } : {}), ...(handOff ? { may_act: { sub: handOff.clientId } } : {}), exp, ...(subject.gid ? { gid: subject.gid } : {}) },
        };
      } catch (err) {
        if (err instanceof OAuthError) return { allowed: false, error: err.error, error_description: err.message };
        throw err;
      }
    },
    async handle({ client: { client }, request, now, dpopJkt }: GrantInput<TokenExchangeRequest>): Promise<GrantResult> {
      const actor = request.actorToken ? await verifyActor(request.actorToken, client, now) : null;
      const { subject, delegation, act, handOff, targets, exp } = await decide(client, request, actor, now);
      const binding = decideExchangeBinding({
        subjectJkt: subject.jkt,
        subjectClientId: subject.clientId,
        actorJkt: actor?.jkt,
        hasActorToken: actor !== null,
        clientId: client.clientId,
        proofJkt: dpopJkt,
      });
      if (!binding.ok) throw invalidRequest(binding.description);
      const scopes = targets.scopes;
      const minted = await mintAccessToken(
        {
          subject: subject.sub,
          subjectIsAgent: subject.subProfile === 'ai_agent',
          clientId: client.clientId,
          audience: handOff ? [handOff.clientId] : targets.resources,
          scopes,
          ttlSeconds: exp - now,
          ...(act ? { act } : {}),
          ...(subject.gid ? { grantId: subject.gid } : {}),
          ...(subject.authTime !== undefined ? { authTime: subject.authTime } : {}),
          ...(handOff ? { mayAct: { sub: handOff.clientId } } : {}),
          dpopJkt: binding.jkt,
        },
        { keys: deps.keys, issuer: deps.issuer, now },
      );
      // Lineage: the new token is a child of the subject token and of the actor token, so revoking either revokes it.
      // Recorded before the answer, and refused if a parent was revoked meanwhile (the revocation wins the race).
      const parents = actor?.jti ? [subject.jti, actor.jti] : [subject.jti];
      if (!(await deps.lineage.recordDerivation(minted.claims.jti, parents, minted.claims.exp, [minted.claims.aud].flat()))) {
        throw invalidRequest('subject_token is not valid (inactive)', 'a parent token was revoked while the exchange ran');
      }
      return {
        response: { access_token: minted.token, issued_token_type: request.requestedTokenType, token_type: tokenTypeFor(binding.jkt), expires_in: minted.expiresIn, scope: scopes.join(' ') },
        audit: {
          event: 'token.issued',
          actor: actor?.act.sub ?? client.clientId,
          subject: subject.sub,
          clientId: client.clientId,
          detail: {
            grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
            jti: minted.claims.jti,
            subject_jti: subject.jti,
            parent_jtis: parents,
            subject_token_type: request.subjectTokenType,
            act: minted.claims.act,
            impersonation: delegation.impersonation,
            ...(actor ? { actor_token_form: actor.form } : {}),
            aud: minted.claims.aud,
            scope: scopes.join(' '),
            exp: minted.claims.exp,
            grant_id: subject.gid,
          },
        },
      };
    },
  };
}

/** The client ids of an `act` chain, outermost first (a resource server's is its URI). */
export function chainParties(act: ActClaim | undefined): string[] {
  const ids: string[] = [];
  for (let a: ActClaim | undefined = act; a; a = a.act) ids.push(a.client_id ?? a.sub);
  return ids;
}
