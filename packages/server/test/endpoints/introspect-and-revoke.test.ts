import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

forEachStore('introspection and revocation', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string; apiKey: string };

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server);
  });
  after(() => server.close());

  async function issueToken(who = agent): Promise<string> {
    const response = await server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc' }, { authorization: basicAuth(who.clientId, who.clientSecret) });
    assert.equal(response.status, 200);
    return ((await response.json()) as { access_token: string }).access_token;
  }
  const introspect = async (token: string, authorization = `Bearer ${agent.apiKey}`) => {
    const response = await server.postForm('/introspect', { token }, { authorization });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    return (await response.json()) as Record<string, unknown>;
  };

  test('IN-01 unauthenticated, wrong API key or wrong client secret → 401', async () => {
    const token = await issueToken();
    assert.equal((await server.postForm('/introspect', { token })).status, 401);
    const wrongKey = await server.postForm('/introspect', { token }, { authorization: `Bearer ${agent.apiKey.slice(0, -2)}xx` });
    assert.equal(wrongKey.status, 401);
    assert.match(wrongKey.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.equal((await server.postForm('/introspect', { token }, { authorization: basicAuth(agent.clientId, 'nope') })).status, 401);
  });

  test('the resource in the audience sees the token active with its claims', async () => {
    const token = await issueToken();
    const claims = decodeJwt(token).payload;
    const result = await introspect(token);
    assert.deepEqual(result, {
      active: true,
      iss: server.issuer,
      sub: agent.clientId,
      aud: MCP_RESOURCE,
      exp: claims['exp'],
      iat: claims['iat'],
      jti: claims['jti'],
      client_id: agent.clientId,
      token_type: 'Bearer',
      scope: 'calc',
      sub_profile: 'ai_agent',
    });
    // Twice: the second answer comes from the signature cache and must be identical.
    assert.deepEqual(await introspect(token), result);
  });

  test('the owning client may introspect its own token, an admin any token', async () => {
    const token = await issueToken();
    assert.equal((await introspect(token, basicAuth(agent.clientId, agent.clientSecret)))['active'], true);
    assert.equal((await introspect(token, `Bearer ${server.adminToken}`))['active'], true);
    const other = await registerAgentAndResource(server);
    assert.deepEqual(await introspect(token, basicAuth(other.clientId, other.clientSecret)), { active: false });
  });

  test('a resource outside the audience sees active:false', async () => {
    const created = await server.admin('POST', '/resources', { resource: 'https://other.example.com/api', scopes: ['x'] });
    const { api_key: otherKey } = (await created.json()) as { api_key: string };
    assert.deepEqual(await introspect(await issueToken(), `Bearer ${otherKey}`), { active: false });
  });

  test('expired → active:false', async () => {
    const token = await issueToken();
    server.clock.advance(901);
    try {
      assert.deepEqual(await introspect(token), { active: false });
    } finally {
      server.clock.advance(-901);
    }
  });

  test('malformed, alg none, tampered payload, foreign key, foreign issuer → active:false', async () => {
    const token = await issueToken();
    const [header, payload] = token.split('.') as [string, string, string];
    const claims = decodeJwt(token).payload;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const foreignKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const signWith = (h: unknown, p: unknown) => {
      const input = `${b64(h)}.${b64(p)}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: foreignKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    };
    const cases: Record<string, string> = {
      malformed: 'not-a-jwt',
      'two segments': `${header}.${payload}`,
      'alg none': `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
      'alg none with our kid': `${b64({ ...decodeJwt(token).header, alg: 'none' })}.${payload}.`,
      'HS256 with our kid': `${b64({ ...decodeJwt(token).header, alg: 'HS256' })}.${payload}.${token.split('.')[2]}`,
      tampered: `${header}.${b64({ ...claims, scope: 'calc files:write exec' })}.${token.split('.')[2]}`,
      'signed by a foreign key under our kid': signWith(decodeJwt(token).header, claims),
      'foreign issuer': signWith({ alg: 'ES256', typ: 'at+jwt', kid: 'elsewhere' }, { ...claims, iss: 'https://evil.example.com' }),
    };
    for (const [name, candidate] of Object.entries(cases)) assert.deepEqual(await introspect(candidate), { active: false }, name);
  });

  test('disabling the agent makes its tokens inactive at once, and they stay dead after enabling it again', async () => {
    const victim = await registerAgentAndResource(server);
    const token = await issueToken({ ...victim, apiKey: agent.apiKey });
    assert.equal((await introspect(token))['active'], true);
    await server.admin('POST', `/agents/${victim.clientId}/disable`);
    assert.deepEqual(await introspect(token), { active: false });
    await server.admin('POST', `/agents/${victim.clientId}/enable`);
    assert.deepEqual(await introspect(token), { active: false });
  });

  test('a disable written by another process (the CLI) is seen by the very next introspection', async () => {
    const victim = await registerAgentAndResource(server);
    const token = await issueToken({ ...victim, apiKey: agent.apiKey });
    assert.equal((await introspect(token))['active'], true, 'primes every cache on the way');
    const other = await openStore(fixture.url);
    try {
      await other.updateClient(victim.clientId, { status: 'disabled', tokensValidAfter: server.clock.now() + 1 });
    } finally {
      await other.close();
    }
    assert.deepEqual(await introspect(token), { active: false });
    const refused = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(victim.clientId, victim.clientSecret) });
    assert.equal(refused.status, 401);
  });

  test('deleting the agent makes its tokens inactive', async () => {
    const doomed = await registerAgentAndResource(server);
    const token = await issueToken({ ...doomed, apiKey: agent.apiKey });
    assert.equal((await server.admin('DELETE', `/agents/${doomed.clientId}`)).status, 204);
    assert.deepEqual(await introspect(token), { active: false });
  });

  test('IN-02 / RV-01 revoked by its owner → active:false; unknown or garbage tokens → 200', async () => {
    const token = await issueToken();
    const auth = { authorization: basicAuth(agent.clientId, agent.clientSecret) };
    const revoked = await server.postForm('/revoke', { token, token_type_hint: 'access_token' }, auth);
    assert.equal(revoked.status, 200);
    assert.deepEqual(await introspect(token), { active: false });
    assert.equal((await server.postForm('/revoke', { token }, auth)).status, 200, 'revoking twice is fine');
    assert.equal((await server.postForm('/revoke', { token: 'garbage' }, auth)).status, 200);
  });

  test('a token introspected repeatedly (its decision reused) is inactive at once when revoked, narrowed at once when its agent loses a scope', async () => {
    const token = await issueToken();
    for (let i = 0; i < 3; i++) assert.equal((await introspect(token))['active'], true, 'the same second, nothing written: the decision is reused');
    const narrowed = await registerAgentAndResource(server);
    const wide = await server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc files:read' }, { authorization: basicAuth(narrowed.clientId, narrowed.clientSecret) });
    const wideToken = ((await wide.json()) as { access_token: string }).access_token;
    const asNarrowed = `Bearer ${agent.apiKey}`;
    assert.equal((await introspect(wideToken, asNarrowed))['scope'], 'calc files:read');
    assert.equal((await introspect(wideToken, asNarrowed))['scope'], 'calc files:read');
    assert.equal((await server.admin('PATCH', `/agents/${narrowed.clientId}`, { scopes: ['calc'] })).status, 200);
    assert.equal((await introspect(wideToken, asNarrowed))['scope'], 'calc', 'the narrowing is seen by the next call');
    const revoked = await server.postForm('/revoke', { token }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(revoked.status, 200);
    assert.deepEqual(await introspect(token), { active: false });
  });

  test('RV-02 another client cannot revoke the token', async () => {
    const token = await issueToken();
    const other = await registerAgentAndResource(server);
    const response = await server.postForm('/revoke', { token }, { authorization: basicAuth(other.clientId, other.clientSecret) });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'unauthorized_client');
    assert.equal((await introspect(token))['active'], true);
  });

  test('revocation requires client authentication and a token', async () => {
    const token = await issueToken();
    assert.equal((await server.postForm('/revoke', { token })).status, 401);
    const missing = await server.postForm('/revoke', {}, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.deepEqual(await missing.json(), { error: 'invalid_request', error_description: 'token is required' });
  });
});
