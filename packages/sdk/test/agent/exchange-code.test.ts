import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AgentAuthClient } from '../../src/agent/client.ts';
import type { AppClientOptions } from '../../src/agent/client-options.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

/**
 * What the SDK sends and accepts when it redeems a code, refreshes, exchanges and revokes, against the fixture AS
 * whose token endpoint answers as each test programs it (so that bad ID tokens and odd answers can be served).
 */
describe('exchangeCode, refresh, exchange and revoke on the wire', () => {
  let as: TestIssuer;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const resource = 'https://mcp.example.test/mcp';
  const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
  before(async () => {
    as = await startTestIssuer();
    as.addClient({ clientId: 'agt_alpha', secret: 'agent-secret' });
    as.addClient({ clientId: 'app_confidential', secret: 'app-secret' });
  });
  after(() => as.close());
  beforeEach(() => as.setMetadataExtra({ authorization_response_iss_parameter_supported: true }));

  const agent = (app: AppClientOptions = { clientId: 'app_demo', redirectUri }) =>
    new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: 'agent-secret', app });

  /** A user token as the fixture AS would issue for the app, with the agent in `act`. */
  const userToken = (clientId = 'app_demo') => as.accessToken({ sub: 'usr_alice', client_id: clientId, act: { sub: 'agt_alpha', sub_profile: 'ai_agent' } });

  // The nonce is not on the wire at the token endpoint: it comes from the authorization URL, which the tests read back.
  let lastNonce: string | undefined;
  const nonceOf = (_form: URLSearchParams) => lastNonce;

  /** Runs the request part and answers the code with `body` (merged over a default token response). */
  async function redeem(client: AgentAuthClient, body: (form: URLSearchParams) => Record<string, unknown>, scope = 'openid files:read offline_access') {
    const { url, state } = await client.authorizationUrl({ scope, resource });
    lastNonce = new URL(url).searchParams.get('nonce') ?? undefined;
    const response = client.handleCallback(`${redirectUri}?code=the-code&state=${state}&iss=${encodeURIComponent(as.issuer)}`);
    as.setGrantHandler((form) => ({ status: 200, body: { access_token: userToken(), token_type: 'Bearer', expires_in: 300, ...body(form) } }));
    return { response, tokens: () => client.exchangeCode(response) };
  }

  test('OBO-02 SR-04 the code request: code, code_verifier, redirect_uri, client_id of the public app, resource, and the agent’s actor token (for the issuer) as actor_token', async () => {
    const client = agent();
    const { response, tokens } = await redeem(client, (form) => ({ id_token: as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce: nonceOf(form) }), refresh_token: 'mrt_1' }));
    const set = await tokens();
    const form = as.tokenRequests.at(-1)!;
    assert.equal(form.get('grant_type'), 'authorization_code');
    assert.equal(form.get('code'), 'the-code');
    assert.equal(form.get('code_verifier'), response.codeVerifier);
    assert.equal(form.get('redirect_uri'), redirectUri);
    assert.equal(form.get('client_id'), 'app_demo');
    assert.equal(form.get('client_secret'), null);
    assert.deepEqual(form.getAll('resource'), [resource]);
    assert.equal(form.get('actor_token_type'), ACCESS_TOKEN);
    const actor = as.tokenRequests.at(-2)!;
    assert.equal(actor.get('grant_type'), 'client_credentials', 'the actor token is the agent’s own');
    assert.deepEqual(actor.getAll('resource'), [as.issuer], 'SR-04: a token for the authorization server, never for a resource');
    assert.equal(set.subject, 'usr_alice');
    assert.equal(set.refreshToken, 'mrt_1');
    assert.deepEqual(set.scope, ['files:read', 'offline_access', 'openid']);
  });

  test('a confidential app authenticates with its secret (client_secret_basic), never the agent’s', async () => {
    const client = agent({ clientId: 'app_confidential', clientSecret: 'app-secret', redirectUri });
    let authorization: string | null = null;
    const { tokens } = await redeem(client, () => ({}), 'files:read');
    as.setGrantHandler((_form, authenticated) => {
      authorization = authenticated?.clientId ?? null;
      return { status: 200, body: { access_token: userToken('app_confidential'), token_type: 'Bearer' } };
    });
    await tokens();
    assert.equal(authorization, 'app_confidential');
    assert.equal(as.tokenRequests.at(-1)!.get('client_id'), null);
  });

  async function redeemWithIdToken(idToken: (nonce: string | undefined) => string | undefined) {
    const client = agent();
    const { url, state } = await client.authorizationUrl({ scope: 'openid files:read', resource });
    lastNonce = new URL(url).searchParams.get('nonce') ?? undefined;
    const response = client.handleCallback(`${redirectUri}?code=c&state=${state}&iss=${encodeURIComponent(as.issuer)}`);
    const token = idToken(lastNonce);
    as.setGrantHandler(() => ({ status: 200, body: { access_token: userToken(), token_type: 'Bearer', ...(token === undefined ? {} : { id_token: token }) } }));
    return client.exchangeCode(response);
  }

  test('ID token: a valid one (OIDC Core §3.1.3.7) gives the user and the claims', async () => {
    const set = await redeemWithIdToken((nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce, email: 'alice@example.com' }));
    assert.equal(set.subject, 'usr_alice');
    assert.equal(set.idTokenClaims?.['email'], 'alice@example.com');
  });

  test('ID token: typ may be absent or application/jwt (OIDC Core §2 does not require it), any asymmetric key type', async () => {
    for (const [alg, header] of [['ES256', { typ: undefined }], ['EdDSA', { typ: 'application/jwt' }], ['RS256', {}]] as const) {
      const set = await redeemWithIdToken((nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce }, { key: as.keyFor(alg), header }));
      assert.equal(set.subject, 'usr_alice', alg);
    }
  });

  test('ID token refused → ERR_ID_TOKEN_INVALID: missing, wrong nonce, unknown key, none/HS256, another audience, azp, typ at+jwt, expired', async () => {
    const unpublished = as.createKey('ES256', false);
    const cases: [string, (nonce: string | undefined) => string | undefined, string][] = [
      ['missing although openid was granted', () => undefined, 'missing'],
      ['another nonce', () => as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce: 'replayed' }), 'nonce'],
      ['no nonce', () => as.idToken({ sub: 'usr_alice', aud: 'app_demo' }), 'nonce'],
      ['a key not in the JWKS', (nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce }, { key: unpublished }), 'signature'],
      ['alg none', (nonce) => unsigned({ alg: 'none', typ: 'JWT' }, { iss: as.issuer, sub: 'usr_alice', aud: 'app_demo', nonce }), 'signature'],
      ['alg HS256', (nonce) => unsigned({ alg: 'HS256', typ: 'JWT' }, { iss: as.issuer, sub: 'usr_alice', aud: 'app_demo', nonce }), 'signature'],
      ['another audience', (nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_other', nonce }), 'claims'],
      ['two audiences without azp', (nonce) => as.idToken({ sub: 'usr_alice', aud: ['app_demo', 'app_other'], nonce }), 'claims'],
      ['azp of another client', (nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_demo', azp: 'app_other', nonce }), 'claims'],
      ['an access token passed off as an ID token', (nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce }, { header: { typ: 'at+jwt' } }), 'claims'],
      ['expired', (nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce, exp: Math.floor(Date.now() / 1000) - 120 }), 'claims'],
      ['another issuer', (nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce, iss: 'https://attacker.example' }), 'claims'],
    ];
    for (const [name, token, reason] of cases) {
      await assert.rejects(redeemWithIdToken(token), { code: 'ERR_ID_TOKEN_INVALID', reason }, name);
    }
  });

  test('a refused code (RFC 6749 §5.2) → ERR_TOKEN_REQUEST_FAILED with error and description; nothing is stored', async () => {
    const client = agent();
    const { state } = await client.authorizationUrl({ scope: 'files:read', resource });
    const response = client.handleCallback(`${redirectUri}?code=c&state=${state}&iss=${encodeURIComponent(as.issuer)}`);
    as.setGrantHandler(() => ({ status: 400, body: { error: 'invalid_grant', error_description: 'the authorization code was already used' } }));
    await assert.rejects(client.exchangeCode(response), { code: 'ERR_TOKEN_REQUEST_FAILED', status: 400, error: 'invalid_grant', errorDescription: 'the authorization code was already used' });
  });

  test('refresh (RFC 6749 §6): the stored refresh token is sent with resource, the rotated one stored; without a new one the old stays', async () => {
    const client = agent();
    const { tokens } = await redeem(client, () => ({ refresh_token: 'mrt_1' }), 'files:read offline_access');
    const first = await tokens();
    as.setGrantHandler(() => ({ status: 200, body: { access_token: userToken(), token_type: 'Bearer', expires_in: 300, refresh_token: 'mrt_2' } }));
    const second = await client.refresh(first);
    const form = as.tokenRequests.at(-1)!;
    assert.equal(form.get('grant_type'), 'refresh_token');
    assert.equal(form.get('refresh_token'), 'mrt_1');
    assert.equal(form.get('client_id'), 'app_demo');
    assert.deepEqual(form.getAll('resource'), [resource]);
    assert.equal(second.refreshToken, 'mrt_2');
    as.setGrantHandler(() => ({ status: 200, body: { access_token: userToken(), token_type: 'Bearer', expires_in: 300 } }));
    const third = await client.refresh(first); // the stale object: the store’s newer refresh token is used
    assert.equal(as.tokenRequests.at(-1)!.get('refresh_token'), 'mrt_2');
    assert.equal(third.refreshToken, 'mrt_2', 'OAuth 2.1 §4.3.3: no new refresh token, the old one stays');
    assert.equal((await client.tokenStore.get(first.key))?.refreshToken, 'mrt_2');
  });

  test('refresh: invalid_grant deletes the stored set; an ID token naming another user → ERR_ID_TOKEN_INVALID subject', async () => {
    const client = agent();
    const set = await redeemWithIdToken((nonce) => as.idToken({ sub: 'usr_alice', aud: 'app_demo', nonce }));
    await client.tokenStore.set(set.key, { ...set, refreshToken: 'mrt_x' });
    as.setGrantHandler(() => ({ status: 200, body: { access_token: userToken(), token_type: 'Bearer', id_token: as.idToken({ sub: 'usr_mallory', aud: 'app_demo' }) } }));
    await assert.rejects(client.refresh(set.key), { code: 'ERR_ID_TOKEN_INVALID', reason: 'subject' });
    as.setGrantHandler(() => ({ status: 400, body: { error: 'invalid_grant', error_description: 'the refresh token was already used' } }));
    await assert.rejects(client.refresh(set.key), { code: 'ERR_TOKEN_REQUEST_FAILED', error: 'invalid_grant' });
    assert.equal(await client.tokenStore.get(set.key), undefined);
    await assert.rejects(client.refresh(set.key), TypeError, 'nothing stored under the key any more');
  });

  test('RFC 8693 exchange: the form (TE-02: actor_token_type only with an actor token) and the response (TE-05)', async () => {
    const client = agent();
    as.setGrantHandler(() => ({ status: 200, body: { access_token: 'exchanged', token_type: 'Bearer', issued_token_type: ACCESS_TOKEN, expires_in: 60, scope: 'files:read' } }));
    const token = await client.exchange({ subjectToken: 'subject', audience: 'agt_beta', scope: ['files:read'], requestedTokenType: ACCESS_TOKEN });
    const form = as.tokenRequests.at(-1)!;
    assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:token-exchange');
    assert.equal(form.get('subject_token'), 'subject');
    assert.equal(form.get('subject_token_type'), ACCESS_TOKEN);
    assert.equal(form.get('actor_token_type'), ACCESS_TOKEN);
    assert.ok(form.get('actor_token'));
    assert.deepEqual(as.tokenRequests.at(-2)!.getAll('resource'), [as.issuer], 'SR-04: the actor token is for the authorization server');
    assert.deepEqual(form.getAll('audience'), ['agt_beta']);
    assert.equal(form.get('scope'), 'files:read');
    assert.equal(form.get('requested_token_type'), ACCESS_TOKEN);
    assert.deepEqual(token, { accessToken: 'exchanged', issuedTokenType: ACCESS_TOKEN, tokenType: 'Bearer', expiresAt: token.expiresAt, scope: ['files:read'] });

    await client.exchange({ subjectToken: 'subject', actorToken: null, resource });
    const bare = as.tokenRequests.at(-1)!;
    assert.equal(bare.get('actor_token'), null);
    assert.equal(bare.get('actor_token_type'), null);

    as.setGrantHandler(() => ({ status: 200, body: { access_token: 'x', token_type: 'Bearer' } }));
    await assert.rejects(client.exchange({ subjectToken: 'subject', actorToken: 'mine' }), { code: 'ERR_TOKEN_REQUEST_FAILED' });
    await assert.rejects(client.exchange({ subjectToken: '' }), TypeError);
  });

  test('RFC 7009 revoke: a token set as the app by its refresh token; a string as the agent (Basic); a refusal → ERR_REVOCATION_FAILED', async () => {
    const client = agent();
    const { tokens } = await redeem(client, () => ({ refresh_token: 'mrt_r' }), 'files:read offline_access');
    const set = await tokens();
    await client.revoke(set);
    let sent = as.revocationRequests.at(-1)!;
    assert.equal(sent.form.get('token'), 'mrt_r');
    assert.equal(sent.form.get('token_type_hint'), 'refresh_token');
    assert.equal(sent.form.get('client_id'), 'app_demo');
    assert.equal(await client.tokenStore.get(set.key), undefined);

    await client.revoke('own-token');
    sent = as.revocationRequests.at(-1)!;
    assert.match(sent.authorization ?? '', /^Basic /);
    assert.equal(sent.form.get('client_id'), null);

    as.setRevocationStatus(400);
    try {
      await assert.rejects(client.revoke('x', { tokenTypeHint: 'access_token' }), { code: 'ERR_REVOCATION_FAILED', status: 400, error: 'unsupported_token_type' });
    } finally {
      as.setRevocationStatus(200);
    }
  });
});

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64(header)}.${b64({ iat: now, exp: now + 300, ...payload })}.${Buffer.from('sig').toString('base64url')}`;
}
