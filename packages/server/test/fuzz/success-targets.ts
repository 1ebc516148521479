import { createHash } from 'node:crypto';
import { basicAuth, decodeJwt, MCP_RESOURCE } from '../helpers/server.ts';
import { pkce } from '../helpers/user-flow.ts';
import { type FuzzRequest, type FuzzResponse, type FuzzTarget, judge, labelOf, OracleFailure, send, type Verdict } from './fuzz-harness.ts';
import { freshCode, type FuzzWorld } from './fuzz-world.ts';
import { formText, type Mutation, mutateForm, mutation, NONE, repeated, sent, unchanged } from './mutations.ts';
import { dpopProof } from './proof-targets.ts';

/**
 * The grants' success paths: each input starts from real valid artefacts, made through the real endpoints for that
 * input (a code from /authorize, a refresh token from a code redemption) or for the run (an on-behalf-of subject
 * token and the agent's actor token), with one field mutated. About a fifth of the inputs are left valid and must
 * succeed; the rest reach the grant's own checks, not the parser's. Besides the format oracle, each target knows
 * which changes must be refused (a code redeemed with another verifier or redirect URI, by another client, twice) and
 * what a success may carry (no scope beyond the grant's, no audience beyond the request's).
 */

const CALLBACK = 'https://app.example.com/callback';
const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const TOKEN_TYPES = [AT, 'urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token', 'urn:ietf:params:oauth:token-type:refresh_token', 'urn:ietf:params:oauth:token-type:txn_token', 'urn:ietf:params:oauth:token-type:saml2', 'urn:ietf:params:oauth:token-type:id-jag', `${AT} `, 'access_token'];
const CALLBACK_LOOKALIKES = [
  'https://app.example.com/callback/', 'https://APP.example.com/callback', 'https://app.example.com/callbacK', 'https://app.example.com/ca\u0301llback',
  'https://app.exаmple.com/callback', 'https://app.example.com/callback%00', 'https://app.example.com/callback#x', 'https://app.example.com:443/callback',
  'https://app.example.com/./callback', 'https://app.example.com/callback?x=1', 'https://app.example.com@evil.example/callback', 'http://app.example.com/callback',
];
const RESOURCE_LOOKALIKES = [MCP_RESOURCE, 'https://mcp.example.com/mcp/', 'https://mcp.example.com/MCP', 'https://MCP.example.com/mcp', 'https://mcp.example.com/mcp#x', 'https://mcp.example.com:443/mcp', 'https://mcp.example.com/mc\u0440', 'https://other.example.com/mcp', 'urn:mcp'];
const SCOPES = ['calc', 'openid', 'offline_access', 'openid calc offline_access', 'exec', 'files:read', 'files:write', 'calc exec', 'calc calc', 'ｃａｌｃ', 'CALC', 'calc\u0000', ''];
/** The parameters that may repeat at the token endpoint (RFC 8707 `resource`, RFC 8693 `audience`). */
const REPEATABLE = new Set(['resource', 'audience']);

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
type Body = Record<string, unknown>;

async function post(w: FuzzWorld, pairs: [string, string][], headers: Record<string, string> = {}): Promise<{ request: FuzzRequest; response: FuzzResponse; body: Body }> {
  const request: FuzzRequest = { method: 'POST', path: '/token', headers: { ...FORM, ...headers }, body: formText(pairs) };
  const response = await send(w.server.issuer, request);
  let body: Body = {};
  try {
    body = JSON.parse(response.body) as Body;
  } catch {
    // the format oracle judges it
  }
  return { request, response, body };
}

function check(ok: boolean, what: string, m: Mutation, request: FuzzRequest, response: FuzzResponse): void {
  if (!ok) throw new OracleFailure(`${what} (mutation ${JSON.stringify(m)}): ${request.body?.toString().slice(0, 400)} → ${response.status} ${response.body.slice(0, 300)}`);
}

const scopeSet = (scope: unknown): string[] => (typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []);
const subset = (a: readonly string[], b: readonly string[]): boolean => a.every((x) => b.includes(x));

/** Sends one request twice (a replay) or twice at once (a race); the label names the kind and both outcomes. */
async function twice(w: FuzzWorld, pairs: [string, string][], headers: () => Record<string, string>, race: boolean) {
  const [first, second] = race ? await Promise.all([post(w, pairs, headers()), post(w, pairs, headers())]) : [await post(w, pairs, headers()), await post(w, pairs, headers())];
  for (const r of [first, second]) judge('oauth', r.request, r.response);
  const statuses = [first, second].map((r) => labelOf(r.response)).sort();
  return { first, second, label: `${race ? 'race' : 'replay'}: ${statuses.join(' + ')}` };
}

/** Fields a target lists for its special inputs: a DPoP proof added, the valid request sent twice, twice at once. */
const SPECIAL = ['dpop', 'replay', 'race'];

interface CodeArtefact {
  code: string;
  verifier: string;
}

/** Authorization code redemption: a fresh code per input, redeemed with one field changed. */
const authorizationCode: FuzzTarget<Mutation, CodeArtefact> = {
  name: 'success:authorization_code',
  inputs: () => mutation(['code', 'code_verifier', 'redirect_uri', 'client_id', 'resource', 'scope', 'grant_type', 'actor_token', ...SPECIAL]),
  prepare: (w) => freshCode(w),
  async run(w, m, { code, verifier }): Promise<Verdict> {
    const valid = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CALLBACK, client_id: w.app.clientId };
    const alternatives = (field: string): readonly string[] => ({
      code: [w.app.refreshToken, code.slice(1), `${code}=`, ` ${code}`],
      code_verifier: [pkce().verifier, createHash('sha256').update(verifier).digest('base64url'), verifier.slice(0, 42), `${verifier}${'a'.repeat(86)}`, `${verifier.slice(0, -1)}+`],
      redirect_uri: CALLBACK_LOOKALIKES,
      client_id: [w.otherApp.clientId, w.agent.clientId, w.keyed.clientId, w.app.clientId.toUpperCase()],
      resource: RESOURCE_LOOKALIKES,
      scope: SCOPES,
      grant_type: ['refresh_token', 'AUTHORIZATION_CODE', 'client_credentials', TE],
      actor_token: [w.delegation.actorToken, w.delegation.otherActorToken],
    })[field] ?? [];
    const pairs = SPECIAL.includes(m.field) ? Object.entries(valid) : mutateForm(valid, m, alternatives);
    const headers = (): Record<string, string> => (m.field === 'dpop' ? { dpop: dpopProof(w, '/token') } : {});
    if (m.field === 'replay' || m.field === 'race') {
      const { first, second, label } = await twice(w, pairs, headers, m.field === 'race');
      const wins = [first, second].filter((r) => r.response.status === 200);
      check(wins.length === 1, 'a code redeemed twice must give tokens exactly once', m, first.request, second.response);
      // RFC 6749 §4.1.2: the replay revokes what the code gave; its refresh token is refused from now on.
      const refresh = await post(w, [['grant_type', 'refresh_token'], ['refresh_token', String(wins[0]!.body['refresh_token'])], ['client_id', w.app.clientId]]);
      check(refresh.response.status === 400 && refresh.body['error'] === 'invalid_grant', 'a replayed code left its refresh token usable', m, refresh.request, refresh.response);
      return { outcome: 'accepted', label };
    }
    const { request, response, body } = await post(w, pairs, headers());
    const verdict = judge('oauth', request, response);
    const redirect = sent(pairs, 'redirect_uri');
    const mustRefuse =
      !['code', 'code_verifier', 'client_id', 'grant_type'].every((name) => unchanged(pairs, valid, name)) ||
      (redirect.length > 0 && !(redirect.length === 1 && redirect[0] === CALLBACK)) ||
      sent(pairs, 'actor_token').length > 0 ||
      (!REPEATABLE.has(m.field) && repeated(pairs, m.field));
    if (mustRefuse) check(response.status >= 400, 'a changed code, verifier, client, redirect URI or repeated parameter was accepted', m, request, response);
    if (m.field === NONE || m.field === 'dpop') check(response.status === 200, 'a valid code redemption was refused', m, request, response);
    if (response.status === 200) {
      check(typeof body['access_token'] === 'string' && typeof body['refresh_token'] === 'string' && typeof body['id_token'] === 'string', 'a redemption without its three tokens', m, request, response);
      check(body['token_type'] === (m.field === 'dpop' ? 'DPoP' : 'Bearer'), 'token_type does not follow the DPoP proof', m, request, response);
      check(subset(scopeSet(body['scope']), ['openid', 'calc', 'offline_access']), 'a redemption gave a scope the user did not grant', m, request, response);
    }
    return verdict;
  },
};

interface RefreshArtefact {
  refreshToken: string;
}

/** Refresh: a fresh refresh token per input (a code redeemed), used with one field changed. */
const refreshToken: FuzzTarget<Mutation, RefreshArtefact> = {
  name: 'success:refresh_token',
  inputs: () => mutation(['refresh_token', 'client_id', 'scope', 'resource', 'grant_type', ...SPECIAL]),
  async prepare(w) {
    const { code, verifier } = await freshCode(w);
    const r = await post(w, [['grant_type', 'authorization_code'], ['code', code], ['code_verifier', verifier], ['redirect_uri', CALLBACK], ['client_id', w.app.clientId]]);
    if (typeof r.body['refresh_token'] !== 'string') throw new Error(`no refresh token: ${r.response.status} ${r.response.body}`);
    return { refreshToken: r.body['refresh_token'] };
  },
  async run(w, m, { refreshToken: token }): Promise<Verdict> {
    const valid = { grant_type: 'refresh_token', refresh_token: token, client_id: w.app.clientId };
    const alternatives = (field: string): readonly string[] => ({
      refresh_token: [w.delegation.actorToken, token.slice(1), `${token}=`, w.delegation.subjectToken],
      client_id: [w.otherApp.clientId, w.agent.clientId, w.app.clientId.toUpperCase()],
      scope: SCOPES,
      resource: RESOURCE_LOOKALIKES,
      grant_type: ['authorization_code', 'REFRESH_TOKEN', 'client_credentials', TE],
    })[field] ?? [];
    const pairs = SPECIAL.includes(m.field) ? Object.entries(valid) : mutateForm(valid, m, alternatives);
    const headers = (): Record<string, string> => (m.field === 'dpop' ? { dpop: dpopProof(w, '/token') } : {});
    if (m.field === 'replay' || m.field === 'race') {
      const { first, second, label } = await twice(w, pairs, headers, m.field === 'race');
      const wins = [first, second].filter((r) => r.response.status === 200);
      check(wins.length <= 1, 'a refresh token rotated twice', m, first.request, second.response);
      if (m.field === 'replay') check(wins.length === 1 && first.response.status === 200, 'a valid refresh was refused', m, first.request, first.response);
      // RFC 9700 §4.14.2: reuse of a rotated token revokes the family, so the token the winner got is dead too.
      for (const win of wins) {
        const next = await post(w, [['grant_type', 'refresh_token'], ['refresh_token', String(win.body['refresh_token'])], ['client_id', w.app.clientId]]);
        check(next.response.status === 400 && next.body['error'] === 'invalid_grant', 'a reused refresh token left its family alive', m, next.request, next.response);
      }
      return { outcome: wins.length > 0 ? 'accepted' : 'refused', label };
    }
    const { request, response, body } = await post(w, pairs, headers());
    const verdict = judge('oauth', request, response);
    const mustRefuse =
      !['refresh_token', 'client_id', 'grant_type'].every((name) => unchanged(pairs, valid, name)) || (!REPEATABLE.has(m.field) && repeated(pairs, m.field));
    if (mustRefuse) check(response.status >= 400, 'a changed refresh token, client or repeated parameter was accepted', m, request, response);
    if (m.field === NONE || m.field === 'dpop') check(response.status === 200, 'a valid refresh was refused', m, request, response);
    if (response.status === 200) {
      const issued = scopeSet(body['scope']);
      check(subset(issued, ['openid', 'calc', 'offline_access']), 'a refresh gave a scope the user did not grant', m, request, response);
      // A scope parameter of spaces only names no scope: read as omitted (the grant's scopes), like an empty one.
      const asked = sent(pairs, 'scope').map(scopeSet);
      if (asked.length === 1 && asked[0]!.length > 0) check(subset(issued, asked[0]!), 'a refresh gave more than its scope parameter asked for', m, request, response);
      const aud = [decodeJwt(String(body['access_token'])).payload['aud']].flat();
      check(subset(aud as string[], [MCP_RESOURCE, `${w.server.issuer}/userinfo`]), 'a refresh gave an audience the user did not grant', m, request, response);
      check(typeof body['refresh_token'] === 'string' && body['refresh_token'] !== token, 'a refresh did not rotate its token', m, request, response);
    }
    return verdict;
  },
};

/** Token exchange by the agent of a user's on-behalf-of token (with its actor token), one field changed. */
const tokenExchange: FuzzTarget<Mutation> = {
  name: 'success:token-exchange',
  inputs: () => mutation(['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'resource', 'audience', 'scope', 'requested_token_type', 'client', 'dpop', 'grant_type']),
  async run(w, m): Promise<Verdict> {
    const { subjectToken, actorToken, otherActorToken } = w.delegation;
    const valid = { grant_type: TE, subject_token: subjectToken, subject_token_type: AT, actor_token: actorToken, actor_token_type: AT, resource: MCP_RESOURCE, scope: 'calc' };
    const alternatives = (field: string): readonly string[] => ({
      subject_token: [otherActorToken, actorToken, w.agentToken, w.app.userToken],
      actor_token: [otherActorToken, subjectToken, w.agentToken],
      subject_token_type: TOKEN_TYPES,
      actor_token_type: TOKEN_TYPES,
      requested_token_type: TOKEN_TYPES,
      resource: [...RESOURCE_LOOKALIKES, w.server.issuer],
      audience: [w.otherAgent.clientId, w.agent.clientId, MCP_RESOURCE, w.server.issuer, 'https://evil.example', w.otherAgent.clientId.toUpperCase()],
      scope: SCOPES,
      grant_type: [`${TE} `, 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'refresh_token'],
    })[field] ?? [];
    const special = m.field === 'client' || m.field === 'dpop';
    const pairs = special ? Object.entries(valid) : mutateForm(valid, m, alternatives);
    const by = m.field === 'client' ? w.otherAgent : w.agent;
    const { request, response, body } = await post(w, pairs, { authorization: basicAuth(by.clientId, by.clientSecret), ...(m.field === 'dpop' ? { dpop: dpopProof(w, '/token') } : {}) });
    const verdict = judge('oauth', request, response);
    // A token edited by hand (not another real token) must be refused, as must another agent presenting this one's proof.
    const edited = m.edit.op !== 'pick' && m.mode !== 'remove';
    const mustRefuse =
      (['subject_token', 'actor_token'].includes(m.field) && edited && !unchanged(pairs, valid, m.field)) ||
      (m.field === 'actor_token' && sent(pairs, 'actor_token')[0] === otherActorToken) ||
      m.field === 'client' ||
      !unchanged(pairs, valid, 'grant_type') ||
      (!REPEATABLE.has(m.field) && repeated(pairs, m.field));
    if (mustRefuse) check(response.status >= 400, 'an exchange with a changed token, another agent or a repeated parameter was accepted', m, request, response);
    if (m.field === NONE || m.field === 'dpop') check(response.status === 200, 'a valid exchange was refused', m, request, response);
    if (response.status === 200 && unchanged(pairs, valid, 'subject_token')) {
      const subject = decodeJwt(subjectToken).payload;
      const token = decodeJwt(String(body['access_token'])).payload;
      check(subset(scopeSet(body['scope']), scopeSet(subject['scope'])), 'an exchange gave a scope its subject token does not carry', m, request, response);
      check(subset([token['aud']].flat() as string[], [MCP_RESOURCE, w.otherAgent.clientId]), 'an exchange gave an audience nobody asked for', m, request, response);
      check(token['gid'] === subject['gid'], 'an exchanged token lost its grant', m, request, response);
      if (unchanged(pairs, valid, 'actor_token')) check((token['act'] as Body | undefined)?.['sub'] === w.agent.clientId, 'an exchanged token does not name its actor', m, request, response);
    }
    return verdict;
  },
};

export const successTargets: FuzzTarget<any>[] = [authorizationCode, refreshToken, tokenExchange];
