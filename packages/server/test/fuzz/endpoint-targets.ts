import fc from 'fast-check';
import { basicAuth, MCP_RESOURCE } from '../helpers/server.ts';
import type { FuzzWorld } from './fuzz-world.ts';
import { type FuzzRequest, type FuzzTarget, httpTarget } from './fuzz-harness.ts';
import { hostileJwt, hostileText } from './hostile-jwt.ts';

/**
 * The HTTP endpoints' parameters: every grant of the token endpoint, `/authorize`, PAR, introspection, revocation,
 * registration, userinfo, device and CIBA, the admin API and the login form. Each request is a valid one for its
 * endpoint with some parameters replaced by hostile values, or a random one, so both the checks and the success
 * paths are reached.
 */

/** Unicode normalization look-alikes of the values the server compares: redirect URIs, scopes, resources. */
const lookAlikes = fc.constantFrom(
  'https://app.example.com/callback', 'https://app.example.com/callback/', 'https://APP.example.com/callback', 'https://app.example.com/callbacK',
  'https://app.example.com/ca\u0301llback', 'https://app.exаmple.com/callback', 'https://app.example.com／callback', 'https://app.example.com/callback%00',
  'https://app.example.com/callback#x', 'https://app.example.com:443/callback', 'https://app.example.com/./callback', 'https://app.example.com/callback?x=1',
  'https://app.example.com@evil.example/callback', 'https://app.example.com.evil.example/callback', 'http://app.example.com/callback', 'javascript:alert(1)',
  'https://mcp.example.com/mcp', 'https://mcp.example.com/MCP', 'https://mcp.example.com/mcp/', 'https://mcp.example.com/mc\u0440', 'https://ｍcp.example.com/mcp',
  'calc', 'ｃａｌｃ', 'calc\u0000', 'ca\u200blc', 'files:read', 'ﬁles:read', 'files：read', 'openid', 'openid calc offline_access', 'calc\tcalc', 'calc  calc',
);
const value = fc.oneof(
  { arbitrary: lookAlikes, weight: 3 },
  { arbitrary: hostileText, weight: 2 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 1 },
);

/** RFC 9396 `authorization_details`: JSON text with the same tricks as a JWT header (duplicates, depth, size, types). */
const authorizationDetails = fc.constantFrom(
  '[{"type":"mcp_tool","tool":"calc","resource":"https://mcp.example.com/mcp"}]',
  '[{"type":"mcp_tool","type":"other","tool":"calc"}]',
  `[{"type":"mcp_tool","tool":"calc","arguments":${'['.repeat(3000)}${']'.repeat(3000)}}]`,
  `[{"type":"mcp_tool","tool":"${'x'.repeat(20_000)}"}]`,
  '[{"type":"mcp_tool","tool":"calc\u0000"}]', '[{"type":"mcp_tool","tool":"\ud800"}]', '[{"__proto__":{"type":"mcp_tool"}}]',
  '{"type":"mcp_tool"}', '[]', '[null]', '[1]', '[[]]', 'null', '[{"type":1}]', '[{"type":"mcp_tool","actions":{"length":1e9}}]', '[', '',
  JSON.stringify(Array.from({ length: 500 }, () => ({ type: 'mcp_tool', tool: 'calc' }))),
);

/** Form body: the valid pairs, then some replaced or added by hostile values, sometimes a name repeated. */
function form(valid: Record<string, string>, names: readonly string[], special: fc.Arbitrary<string> = value): fc.Arbitrary<string> {
  const anyValue = fc.oneof({ arbitrary: value, weight: 3 }, { arbitrary: special, weight: 1 }, { arbitrary: authorizationDetails, weight: 1 });
  return fc.tuple(fc.array(fc.tuple(fc.constantFrom(...names, ...Object.keys(valid)), anyValue), { maxLength: 4 }), fc.boolean(), fc.boolean()).map(([changes, replace, keepAll]) => {
    const body = new URLSearchParams(keepAll ? valid : {});
    if (!keepAll) for (const [k, v] of Object.entries(valid)) if (!changes.some(([n]) => n === k)) body.append(k, v);
    for (const [name, v] of changes) replace ? body.set(name, v) : body.append(name, v);
    return body.toString();
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const post = (path: string, headers: Record<string, string>) => (body: string): FuzzRequest => ({ method: 'POST', path, headers: { ...FORM, ...headers }, body });

const GRANT = {
  code: 'authorization_code',
  refresh: 'refresh_token',
  exchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  device: 'urn:ietf:params:oauth:grant-type:device_code',
  ciba: 'urn:openid:params:grant-type:ciba',
};
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const TOKEN_NAMES = ['scope', 'resource', 'audience', 'client_id', 'redirect_uri', 'code_verifier', 'requested_token_type', 'actor_token', 'actor_token_type', 'subject_token_type', 'authorization_details', 'dpop_jkt'];

/** An access token of the server's form, signed by a key it never published, with the server's own `kid` (kid injection of the real key id). */
function forgedAccessToken(world: FuzzWorld): fc.Arbitrary<string> {
  const kid = JSON.parse(Buffer.from(world.agentToken.split('.')[0]!, 'base64url').toString()).kid as string;
  const claims = JSON.parse(Buffer.from(world.agentToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  return hostileJwt({ ...world.forger, kid }, () => ({ header: { alg: 'ES256', typ: 'at+jwt', kid }, payload: { ...claims } }));
}

const tokenTarget = (name: string, make: (world: FuzzWorld) => fc.Arbitrary<FuzzRequest>): FuzzTarget<FuzzRequest> => httpTarget(`token:${name}`, 'oauth', make);

export const endpointTargets: FuzzTarget<any>[] = [
  tokenTarget('client_credentials', (w) => form({ grant_type: 'client_credentials', scope: 'calc', resource: MCP_RESOURCE }, TOKEN_NAMES).map(post('/token', { authorization: basicAuth(w.agent.clientId, w.agent.clientSecret) }))),
  tokenTarget('authorization_code', (w) =>
    form({ grant_type: GRANT.code, client_id: w.app.clientId, code: 'mac_x', redirect_uri: 'https://app.example.com/callback', code_verifier: 'v'.repeat(43) }, TOKEN_NAMES, forgedAccessToken(w)).map(post('/token', {})),
  ),
  tokenTarget('refresh_token', (w) =>
    fc.tuple(form({ grant_type: GRANT.refresh, client_id: w.app.clientId, scope: 'calc' }, TOKEN_NAMES), fc.constantFrom(`${w.app.refreshToken}x`, w.app.refreshToken.slice(0, -2), `${w.app.refreshToken}\u0000`, 'mrt_'))
      .map(([body, token]) => `${body}&refresh_token=${encodeURIComponent(token)}`)
      .map(post('/token', {})),
  ),
  tokenTarget('token-exchange', (w) =>
    fc.tuple(form({ grant_type: GRANT.exchange, subject_token_type: AT, resource: MCP_RESOURCE, scope: 'calc' }, TOKEN_NAMES, forgedAccessToken(w)), forgedAccessToken(w))
      .map(([body, token]) => `${body}&subject_token=${encodeURIComponent(token)}`)
      .map(post('/token', { authorization: basicAuth(w.agent.clientId, w.agent.clientSecret) })),
  ),
  tokenTarget('jwt-bearer', (w) =>
    fc.tuple(form({ grant_type: GRANT.jwtBearer, scope: 'calc', resource: MCP_RESOURCE }, TOKEN_NAMES), hostileJwt(w.forger, () => ({
      header: { alg: 'ES256', kid: w.forger.kid },
      payload: { iss: 'https://idp.example.com', sub: 'user', aud: w.server.issuer, exp: w.server.clock.now() + 60, iat: w.server.clock.now(), jti: 'jb' },
    })))
      .map(([body, assertion]) => `${body}&assertion=${encodeURIComponent(assertion)}`)
      .map(post('/token', { authorization: basicAuth(w.agent.clientId, w.agent.clientSecret) })),
  ),
  tokenTarget('device_code', (w) => form({ grant_type: GRANT.device, device_code: 'mdc_x', client_id: w.app.clientId }, TOKEN_NAMES).map(post('/token', {}))),
  tokenTarget('ciba', (w) => form({ grant_type: GRANT.ciba, auth_req_id: 'x' }, ['auth_req_id', ...TOKEN_NAMES]).map(post('/token', { authorization: basicAuth(w.agent.clientId, w.agent.clientSecret) }))),
  httpTarget('client-assertion', 'oauth', (w) =>
    fc.tuple(form({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' }, ['client_id', 'scope']), hostileJwt(w.keyed.key, () => ({
      header: { alg: 'ES256', kid: w.keyed.key.kid },
      payload: { iss: w.keyed.clientId, sub: w.keyed.clientId, aud: w.server.issuer, exp: w.server.clock.now() + 60, iat: w.server.clock.now(), jti: "ca" },
    })))
      .map(([body, assertion]) => `${body}&client_assertion=${encodeURIComponent(assertion)}`)
      .map(post('/token', {})),
  ),
  httpTarget('dpop-proof', 'oauth', (w) =>
    hostileJwt(w.dpop, () => ({
      header: { alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: w.dpop.publicJwk['kty'], crv: w.dpop.publicJwk['crv'], x: w.dpop.publicJwk['x'], y: w.dpop.publicJwk['y'] } },
      payload: { htm: 'POST', htu: `${w.server.issuer}/token`, iat: w.server.clock.now(), jti: "dp" },
    }))
      .filter((proof) => /^[\x21-\x7e]*$/.test(proof) && proof.length < 60_000)
      .map((proof) => post('/token', { authorization: basicAuth(w.agent.clientId, w.agent.clientSecret), dpop: proof })('grant_type=client_credentials')),
  ),
  httpTarget('authorize', 'page', (w) =>
    form({ response_type: 'code', client_id: w.app.clientId, redirect_uri: 'https://app.example.com/callback', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', scope: 'calc', state: 's' },
      ['resource', 'requested_actor', 'prompt', 'max_age', 'nonce', 'request_uri', 'request', 'response_mode', 'authorization_details', 'dpop_jkt'], forgedAccessToken(w))
      .map((query) => ({ method: 'GET', path: `/authorize?${query}`, headers: {} })),
  ),
  httpTarget('par', 'oauth', (w) =>
    form({ response_type: 'code', client_id: w.app.clientId, redirect_uri: 'https://app.example.com/callback', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', scope: 'calc' },
      ['resource', 'request_uri', 'request', 'state', 'nonce', 'authorization_details', 'client_assertion', 'client_assertion_type', 'dpop_jkt'], forgedAccessToken(w))
      .map(post('/par', {})),
  ),
  httpTarget('introspection', 'oauth', (w) =>
    fc.tuple(forgedAccessToken(w), fc.constantFrom('', 'access_token', 'refresh_token', 'x\u0000'))
      .map(([token, hint]) => post('/introspect', { authorization: `Bearer ${w.apiKey}` })(new URLSearchParams({ token, token_type_hint: hint }).toString())),
  ),
  httpTarget('revocation', 'oauth', (w) =>
    fc.tuple(fc.oneof(forgedAccessToken(w), value), fc.constantFrom('', 'access_token', 'refresh_token'))
      .map(([token, hint]) => post('/revoke', { authorization: basicAuth(w.agent.clientId, w.agent.clientSecret) })(new URLSearchParams({ token, token_type_hint: hint }).toString())),
  ),
  httpTarget('userinfo', 'bearer', (w) =>
    fc.tuple(fc.oneof({ arbitrary: forgedAccessToken(w), weight: 4 }, { arbitrary: fc.constant(w.app.userToken), weight: 1 }), fc.constantFrom('GET', 'POST'), fc.constantFrom('Bearer', 'Bearer', 'DPoP', 'bearer', 'Basic'))
      .filter(([token]) => /^[\x21-\x7e]*$/.test(token) && token.length < 60_000)
      .map(([token, method, scheme]) => ({ method, path: '/userinfo', headers: { authorization: `${scheme} ${token}` } })),
  ),
  httpTarget('device_authorization', 'oauth', (w) =>
    form({ scope: 'calc', resource: MCP_RESOURCE }, ['scope', 'resource', 'client_id', 'authorization_details']).map(post('/device_authorization', { authorization: basicAuth(w.agent.clientId, w.agent.clientSecret) })),
  ),
  httpTarget('ciba', 'oauth', (w) =>
    form({ scope: 'openid calc', login_hint: w.app.email, binding_message: 'hi' }, ['login_hint', 'id_token_hint', 'login_hint_token', 'binding_message', 'requested_expiry', 'client_notification_token', 'resource', 'authorization_details'], forgedAccessToken(w))
      .map(post('/bc-authorize', { authorization: basicAuth(w.agent.clientId, w.agent.clientSecret) })),
  ),
  httpTarget('login-form', 'page', () => form({ email: 'nobody@example.com', password: 'x', csrf: 'x', return_to: '/account' }, ['email', 'password', 'csrf', 'return_to']).map(post('/login', {}))),
];
