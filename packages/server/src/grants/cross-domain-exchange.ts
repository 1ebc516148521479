import { GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_JAG, TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT } from '@mandate/protocol';
import type { ChainingPeerConfig } from '../config.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { type TokenLifecycleDeps, verifyLiveAccessToken, verifyLiveIdToken } from '../lifecycle/token-lifecycle.ts';
import type { FormParams } from '../oauth/form-params.ts';
import { invalidRequest, invalidScope, invalidTarget } from '../oauth/oauth-error.ts';
import { parseResourceParameters, parseScope } from '../oauth/target-parameters.ts';
import type { ClientRecord, UserRecords } from '../store/store.ts';
import { type MintedAuthorizationGrant, mintChainingGrant, mintIdJag } from '../tokens/authorization-grant.ts';
import type { Grant, GrantInput, GrantResult } from './grant.ts';

/**
 * Token exchange (RFC 8693) for a peer authorization server: this server as domain A issues a JWT authorization
 * grant the peer accepts with its `jwt-bearer` grant (RFC 7523 §2.1).
 *
 * - Identity chaining (draft-ietf-oauth-identity-chaining §2.3): `requested_token_type` = `…:jwt` and `audience`
 *   (or `resource`) = a configured peer's issuer; the subject token is one of our access tokens, issued to the
 *   exchanging client (or with it as the current actor). The grant carries the subject, at most the subject
 *   token's current scopes (IC-03) and the chain (`act`), for the peer alone (IC-02), and lives minutes.
 * - ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant §4): `requested_token_type` = `…:id-jag`,
 *   `subject_token_type` = `…:id_token` (an ID token we issued to this very client, JAG-01), `audience` = the
 *   resource authorization server's issuer (a configured peer); `typ: oauth-id-jag+jwt` with the client's id at the
 *   peer (JAG-02), the `resource` and `scope` granted.
 *
 * Every other exchange goes to the wrapped grant (grants/token-exchange.ts), unchanged. Both answers are
 * `token_type: N_A` (RFC 8693 §2.2.1: not an access token) and carry no refresh token.
 */

export interface CrossDomainExchangeDeps {
  keys: KeyRing;
  issuer: string;
  lifecycle: TokenLifecycleDeps;
  users: Pick<UserRecords, 'getUser'>;
  peers: readonly ChainingPeerConfig[];
  grantTtlSeconds: number;
}

export interface CrossDomainExchangeRequest {
  crossDomain: 'id-jag' | 'identity-chaining';
  subjectToken: string;
  peer: ChainingPeerConfig;
  /** `resource` values for the peer (an ID-JAG's `resource`); the peer's own issuer is not one. */
  resources: string[];
  scopes: string[] | undefined;
}

export const isCrossDomainRequest = (request: unknown): request is CrossDomainExchangeRequest =>
  typeof request === 'object' && request !== null && 'crossDomain' in request;

/**
 * Whether a token exchange asks for an ID-JAG or a peer's JWT authorization grant (what a resource server
 * authenticated by its API key may not ask for). Only those two `requested_token_type`s are parsed here.
 */
export function asksForPeerGrant(grant: Pick<Grant, 'parse'>, params: FormParams): boolean {
  const requested = params.get('requested_token_type');
  return (requested === TOKEN_TYPE_ID_JAG || requested === TOKEN_TYPE_JWT) && isCrossDomainRequest(grant.parse(params));
}

/** `inner` with its ID-JAG and identity chaining requests answered here. */
export function withCrossDomainExchange<R>(inner: Grant<R>, deps: CrossDomainExchangeDeps): Grant<R | CrossDomainExchangeRequest> {
  const peerNamed = (value: string) => deps.peers.find((peer) => peer.issuer === value);

  /** ID-JAG §4.3: `audience` is required and names the resource authorization server, one of our peers. */
  function parseIdJag(params: FormParams): CrossDomainExchangeRequest {
    const subjectToken = params.get('subject_token');
    const subjectTokenType = params.get('subject_token_type');
    if (!subjectToken || !subjectTokenType) throw invalidRequest('subject_token and subject_token_type are required');
    if (subjectTokenType !== TOKEN_TYPE_ID_TOKEN) throw invalidRequest(`an ID-JAG is issued for an ID token: subject_token_type must be ${TOKEN_TYPE_ID_TOKEN}`);
    if (params.has('actor_token') || params.has('actor_token_type')) throw invalidRequest('actor_token is not accepted with requested_token_type id-jag');
    const audiences = params.getAll('audience');
    if (audiences.length !== 1) throw invalidRequest('audience is required, once: the issuer of the resource authorization server');
    const peer = peerNamed(audiences[0]!);
    if (!peer) throw invalidTarget(`audience ${audiences[0]} is not an authorization server this one issues ID-JAGs for`);
    return { crossDomain: 'id-jag', subjectToken, peer, resources: parseResourceParameters(params), scopes: parseScope(params.get('scope')) };
  }

  /** Identity chaining §2.3.1: `resource` and/or `audience` name the peer; nothing else may be named beside it. */
  function parseChaining(params: FormParams, peer: ChainingPeerConfig): CrossDomainExchangeRequest {
    const subjectToken = params.get('subject_token');
    const subjectTokenType = params.get('subject_token_type');
    if (!subjectToken || !subjectTokenType) throw invalidRequest('subject_token and subject_token_type are required');
    if (subjectTokenType !== TOKEN_TYPE_ACCESS_TOKEN && subjectTokenType !== TOKEN_TYPE_JWT) {
      throw invalidRequest('a JWT authorization grant is issued for one of this server’s access tokens: subject_token_type must be access_token or jwt');
    }
    if (params.has('actor_token') || params.has('actor_token_type')) throw invalidRequest('actor_token is not accepted with a JWT authorization grant request');
    for (const target of [...params.getAll('audience'), ...params.getAll('resource')]) {
      if (target !== peer.issuer) throw invalidTarget(`a JWT authorization grant names one authorization server (${peer.issuer}), not also ${target}`);
    }
    return { crossDomain: 'identity-chaining', subjectToken, peer, resources: [], scopes: parseScope(params.get('scope')) };
  }

  /** The scopes a grant for `peer` carries: the asked ones within `ceiling`, and within the peer's list when it has one. */
  function grantScopes(asked: string[] | undefined, ceiling: readonly string[] | null, peer: ChainingPeerConfig): string[] {
    const allowed = (scope: string) => (ceiling === null || ceiling.includes(scope)) && (peer.scopes === undefined || peer.scopes.includes(scope));
    if (asked === undefined) return (ceiling ?? peer.scopes ?? []).filter(allowed);
    const refused = asked.find((scope) => !allowed(scope));
    if (refused !== undefined) {
      throw invalidScope(ceiling !== null && !ceiling.includes(refused) ? `scope ${refused} exceeds the subject token’s scope` : `scope ${refused} is not granted for ${peer.issuer}`);
    }
    return asked;
  }

  const clientIdAt = (peer: ChainingPeerConfig, client: ClientRecord) => peer.clients[client.clientId] ?? client.clientId;

  async function emailOf(userId: string): Promise<string | undefined> {
    const user = await deps.users.getUser(userId);
    return user?.email && user.emailVerified ? user.email : undefined;
  }

  async function idJag(client: ClientRecord, request: CrossDomainExchangeRequest, now: number, dpopJkt: string | undefined) {
    const verified = await verifyLiveIdToken(request.subjectToken, { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle });
    if (!verified.ok) throw invalidRequest(`subject_token is not valid (${verified.reason})`);
    const { claims } = verified;
    // JAG-01: the ID token must have been issued to the client asking (its `aud`), never one it came by otherwise.
    if (claims.aud !== client.clientId) throw invalidRequest('subject_token was not issued to this client', `ID token for ${claims.aud}`);
    if (verified.grant === null) throw invalidRequest('subject_token does not come from a user’s sign-in');
    const scopes = grantScopes(request.scopes, null, request.peer);
    const email = await emailOf(claims.sub);
    const minted = await mintIdJag(
      {
        audience: request.peer.issuer,
        subject: claims.sub,
        clientId: clientIdAt(request.peer, client),
        scopes,
        resources: request.resources,
        ttlSeconds: deps.grantTtlSeconds,
        ...(email !== undefined ? { email } : {}),
        ...(claims.auth_time !== undefined ? { authTime: claims.auth_time } : {}),
        ...(dpopJkt !== undefined ? { dpopJkt } : {}),
      },
      { keys: deps.keys, issuer: deps.issuer, now },
    );
    return { minted, subjectJti: claims.jti, scopes };
  }

  async function chainingGrant(client: ClientRecord, request: CrossDomainExchangeRequest, now: number, dpopJkt: string | undefined) {
    const verified = await verifyLiveAccessToken(request.subjectToken, { keys: deps.keys, issuer: deps.issuer, now, lifecycle: deps.lifecycle });
    if (!verified.ok) throw invalidRequest(`subject_token is not valid (${verified.reason})`);
    const { claims, life } = verified;
    // IC-03: the client presents a token issued to it, or one in whose chain it is the current actor.
    if (claims.client_id !== client.clientId && claims.act?.sub !== client.clientId) {
      throw invalidRequest('subject_token was not issued to this client, nor names it as the current actor');
    }
    const scopes = grantScopes(request.scopes, life.scopes, request.peer);
    const email = claims.gid !== undefined ? await emailOf(claims.sub) : undefined;
    const minted = await mintChainingGrant(
      {
        audience: request.peer.issuer,
        subject: claims.sub,
        clientId: clientIdAt(request.peer, client),
        scopes,
        resources: [],
        // Never beyond the subject token: the grant is only as alive as what it was made from.
        ttlSeconds: Math.max(1, Math.min(deps.grantTtlSeconds, claims.exp - now)),
        ...(email !== undefined ? { email } : {}),
        ...(claims.auth_time !== undefined ? { authTime: claims.auth_time } : {}),
        ...(claims.act !== undefined ? { act: claims.act } : {}),
        ...(dpopJkt !== undefined ? { dpopJkt } : {}),
      },
      { keys: deps.keys, issuer: deps.issuer, now },
    );
    return { minted, subjectJti: claims.jti, scopes };
  }

  function answer(client: ClientRecord, request: CrossDomainExchangeRequest, issued: { minted: MintedAuthorizationGrant; subjectJti: string; scopes: string[] }): GrantResult {
    const { minted } = issued;
    const issuedTokenType = request.crossDomain === 'id-jag' ? TOKEN_TYPE_ID_JAG : TOKEN_TYPE_JWT;
    return {
      response: { access_token: minted.token, issued_token_type: issuedTokenType, token_type: 'N_A', expires_in: minted.expiresIn, scope: issued.scopes.join(' ') },
      audit: {
        event: 'token.issued',
        actor: client.clientId,
        subject: String(minted.claims['sub']),
        clientId: client.clientId,
        detail: {
          grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
          issued_token_type: issuedTokenType,
          jti: minted.claims.jti,
          subject_jti: issued.subjectJti,
          aud: request.peer.issuer,
          peer_client_id: minted.claims['client_id'],
          scope: issued.scopes.join(' '),
          ...(request.resources.length > 0 ? { resource: request.resources } : {}),
          exp: minted.claims.exp,
        },
      },
    };
  }

  return {
    grantType: inner.grantType,
    repeatable: inner.repeatable,
    ...(inner.confidentialClientsOnly !== undefined ? { confidentialClientsOnly: inner.confidentialClientsOnly } : {}),
    parse(params) {
      const requested = params.get('requested_token_type');
      if (requested === TOKEN_TYPE_ID_JAG) return parseIdJag(params);
      if (requested === TOKEN_TYPE_JWT) {
        const peer = [...params.getAll('audience'), ...params.getAll('resource')].map(peerNamed).find((p) => p !== undefined);
        if (peer) return parseChaining(params, peer);
      }
      return inner.parse(params);
    },
    async handle(input: GrantInput<R | CrossDomainExchangeRequest>): Promise<GrantResult> {
      const { request } = input;
      if (!isCrossDomainRequest(request)) return inner.handle(input as GrantInput<R>);
      const client = input.client.client;
      const issued = request.crossDomain === 'id-jag' ? await idJag(client, request, input.now, input.dpopJkt) : await chainingGrant(client, request, input.now, input.dpopJkt);
      return answer(client, request, issued);
    },
  };
}
