import {
  type ActClaim,
  GRANT_TYPE_TOKEN_EXCHANGE,
  type MayActClaim,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_ID_TOKEN,
  TOKEN_TYPE_JWT,
} from '@mandate/protocol';
import { parseScope } from '../oauth/target-parameters.ts';
import { invalidRequest, invalidScope, invalidTarget } from '../oauth/oauth-error.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { decideDelegation } from '../policy/delegation.ts';
import { isOidcScope } from '../policy/oidc-scopes.ts';
import { canonicalResourceUri } from '../oauth/resource-uri.ts';
import type { ClientRecord, ClientRecords, ResourceRecords, UserGrantRecords } from '../store/store.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import type { AccessTokenStatusDeps } from '../tokens/access-token-status.ts';
import { verifyActiveAccessToken, verifyActiveIdToken } from '../tokens/own-token.ts';
import type { Grant, GrantInput, GrantResult } from './grant.ts';


export interface TokenExchangeDeps {
  keys: KeyRing;
  issuer: string;
  clients: Pick<ClientRecords, 'getClient'>;
  resources: Pick<ResourceRecords, 'getResourceByUri'>;
  grants: Pick<UserGrantRecords, 'getGrant'>;
  status: AccessTokenStatusDeps;
  defaultAccessTokenTtlSeconds: number;
  maxAccessTokenTtlSeconds: number;
  maxChainDepth: number;
  allowImpersonation: boolean;
}

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
}

/**
 * RFC 8693 token exchange, as named steps: check the parameters (TE-01, TE-02) → verify the subject token, ours and
 * active (access token, or ID token whose scopes are its grant's) (TE-03) → verify the actor token: ours, active,
 * and the exchanging client's own → decide the delegation chain (policy/delegation.ts: impersonation rule,
 * `may_act`, audience binding, nesting, depth) → decide targets (`resource`/`audience`: registered resources the
 * actor may use or the subject already targets, or one agent as a hand-off audience) and scopes (only ever a
 * subset of the subject's and of the actor's allowance; never widened when the subject has none) → mint, expiring
 * no later than the subject (or actor) token. No refresh token (TE-09).
 */
export function tokenExchangeGrant(deps: TokenExchangeDeps): Grant {
  async function verifySubject(token: string, type: string, now: number): Promise<Subject> {
    const own = { keys: deps.keys, issuer: deps.issuer, now, status: deps.status };
    if (type === TOKEN_TYPE_ACCESS_TOKEN || type === TOKEN_TYPE_JWT) {
      const result = await verifyActiveAccessToken(token, own);
      if (!result.ok) throw invalidRequest(`subject_token is not valid (${result.reason})`);
      const c = result.claims;
      return {
        sub: c.sub, subProfile: c.sub_profile, clientId: c.client_id, aud: [c.aud].flat(), scopes: (c.scope ?? '').split(' ').filter(Boolean),
        act: c.act, mayAct: c.may_act, exp: c.exp, gid: c.gid, authTime: c.auth_time, jti: c.jti,
      };
    }
    if (type === TOKEN_TYPE_ID_TOKEN) {
      const result = await verifyActiveIdToken(token, own);
      if (!result.ok) throw invalidRequest(`subject_token is not valid (${result.reason})`);
      const c = result.claims;
      // An ID token carries no scope: what the user granted in that authorization is the ceiling, never "anything".
      const grant = c.gid ? await deps.grants.getGrant(c.gid) : null;
      return { sub: c.sub, subProfile: undefined, clientId: c.aud, aud: [c.aud], scopes: grant?.scopes ?? [], act: undefined, mayAct: undefined, exp: c.exp, gid: c.gid, authTime: c.auth_time, jti: c.jti };
    }
    throw invalidRequest('subject_token_type must be access_token, jwt or id_token');
  }

  async function verifyActor(token: string, type: string, client: ClientRecord, now: number): Promise<{ act: ActClaim; exp: number; record: ClientRecord | null }> {
    if (type !== TOKEN_TYPE_ACCESS_TOKEN && type !== TOKEN_TYPE_JWT) throw invalidRequest('actor_token_type must be access_token or jwt');
    const result = await verifyActiveAccessToken(token, { keys: deps.keys, issuer: deps.issuer, now, status: deps.status });
    if (!result.ok) throw invalidRequest(`actor_token is not valid (${result.reason})`);
    const c = result.claims;
    // The actor proves itself with its own token (sub = client_id, no chain of its own), held by the exchanging client.
    if (c.sub !== c.client_id || c.act !== undefined || c.client_id !== client.clientId) {
      throw invalidRequest('actor_token must be the exchanging client’s own access token');
    }
    const record = await deps.clients.getClient(c.sub);
    const isAgent = c.sub_profile === 'ai_agent';
    return { act: { sub: c.sub, client_id: c.client_id, ...(isAgent ? { sub_profile: 'ai_agent' } : {}) }, exp: c.exp, record };
  }

  /** Targets: registered resources, or a single agent id as the audience of a hand-off token. */
  async function decideTargets(params: GrantInput['params'], subject: Subject, acting: ClientRecord): Promise<{ resources: string[]; handOff: ClientRecord | null }> {
    const resources: string[] = [];
    let handOff: ClientRecord | null = null;
    for (const value of params.getAll('resource')) {
      const uri = canonicalResourceUri(value);
      if (!uri) throw invalidTarget('resource must be an absolute http(s) URI without a fragment');
      if (!resources.includes(uri)) resources.push(uri);
    }
    for (const value of params.getAll('audience')) {
      const uri = canonicalResourceUri(value);
      if (uri && (await deps.resources.getResourceByUri(uri))) {
        if (!resources.includes(uri)) resources.push(uri);
        continue;
      }
      const agent = await deps.clients.getClient(value);
      if (!agent || agent.kind !== 'agent' || agent.status !== 'active' || handOff) throw invalidTarget(`audience ${value} is not a registered resource or an active agent`);
      handOff = agent;
    }
    if (handOff) {
      if (resources.length > 0) throw invalidTarget('an agent audience cannot be combined with resources');
      return { resources: [], handOff };
    }
    if (resources.length === 0) {
      const registered = [];
      for (const uri of subject.aud) if (await deps.resources.getResourceByUri(uri)) registered.push(uri);
      if (acting.allowedAudiences.length === 1) resources.push(acting.allowedAudiences[0]!);
      else if (registered.length > 0) resources.push(...registered);
      else throw invalidTarget('resource or audience is required');
    }
    for (const uri of resources) {
      if (!(await deps.resources.getResourceByUri(uri))) throw invalidTarget(`resource ${uri} is not registered`);
      const actorMay = acting.kind === 'app' && acting.allowedAudiences.length === 0 ? true : acting.allowedAudiences.includes(uri);
      if (!actorMay && !subject.aud.includes(uri)) throw invalidTarget(`resource ${uri} is not allowed for this actor`);
    }
    return { resources, handOff: null };
  }

  return {
    grantType: GRANT_TYPE_TOKEN_EXCHANGE,
    repeatable: new Set(['resource', 'audience']),
    async handle({ client: { client }, params, now }: GrantInput): Promise<GrantResult> {
      const subjectToken = params.get('subject_token');
      const subjectTokenType = params.get('subject_token_type');
      if (!subjectToken || !subjectTokenType) throw invalidRequest('subject_token and subject_token_type are required');
      const actorToken = params.get('actor_token');
      const actorTokenType = params.get('actor_token_type');
      // RFC 8693 §2.1: actor_token_type is required with actor_token and must not be sent without it.
      if ((actorToken === undefined) !== (actorTokenType === undefined)) throw invalidRequest('actor_token and actor_token_type go together');
      const requestedType = params.get('requested_token_type') ?? TOKEN_TYPE_ACCESS_TOKEN;
      if (requestedType !== TOKEN_TYPE_ACCESS_TOKEN && requestedType !== TOKEN_TYPE_JWT) throw invalidRequest('requested_token_type must be access_token or jwt');

      const subject = await verifySubject(subjectToken, subjectTokenType, now);
      const actor = actorToken ? await verifyActor(actorToken, actorTokenType!, client, now) : null;
      const delegation = decideDelegation({
        subject: { sub: subject.sub, clientId: subject.clientId, aud: subject.aud, act: subject.act, mayAct: subject.mayAct },
        actor: actor?.act ?? null,
        clientId: client.clientId,
        maxDepth: deps.maxChainDepth,
        allowImpersonation: deps.allowImpersonation,
      });
      if (!delegation.ok) throw invalidRequest(delegation.description);

      const acting = actor?.record ?? client;
      const targets = await decideTargets(params, subject, acting);
      const defined = new Set<string>();
      for (const uri of targets.resources) for (const s of (await deps.resources.getResourceByUri(uri))!.scopes) defined.add(s.name);
      const allowed = (s: string) => !isOidcScope(s) && acting.allowedScopes.includes(s) && (targets.handOff !== null || defined.has(s));

      const requested = parseScope(params.get('scope'));
      let scopes: string[];
      if (requested) {
        for (const s of requested) {
          if (!subject.scopes.includes(s)) throw invalidScope(`scope ${s} exceeds the subject token's scope`);
          if (!allowed(s)) throw invalidScope(`scope ${s} is not allowed for this actor or resource`);
        }
        scopes = requested;
      } else scopes = subject.scopes.filter(allowed);

      const exp = Math.min(now + Math.min(acting.accessTokenTtlSeconds ?? deps.defaultAccessTokenTtlSeconds, deps.maxAccessTokenTtlSeconds), subject.exp, actor?.exp ?? Infinity);
      const handOff = targets.handOff;
      const minted = mintAccessToken(
        {
          subject: subject.sub,
          subjectIsAgent: subject.subProfile === 'ai_agent',
          clientId: client.clientId,
          audience: handOff ? [handOff.clientId] : targets.resources,
          scopes,
          ttlSeconds: exp - now,
          ...(delegation.act ? { act: delegation.act } : {}),
          ...(subject.gid ? { grantId: subject.gid } : {}),
          ...(subject.authTime !== undefined ? { authTime: subject.authTime } : {}),
          ...(handOff ? { mayAct: { sub: handOff.clientId } } : {}),
        },
        { keys: deps.keys, issuer: deps.issuer, now },
      );
      return {
        response: { access_token: minted.token, issued_token_type: requestedType, token_type: 'Bearer', expires_in: minted.expiresIn, scope: scopes.join(' ') },
        audit: {
          event: 'token.issued',
          actor: actor?.act.sub ?? client.clientId,
          subject: subject.sub,
          clientId: client.clientId,
          detail: {
            grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
            jti: minted.claims.jti,
            subject_jti: subject.jti,
            subject_token_type: subjectTokenType,
            act: minted.claims.act,
            impersonation: delegation.impersonation,
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
