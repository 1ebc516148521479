import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { SignJWT, exportJWK } from 'jose';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

forEachStore('client_credentials grant', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server);
  });
  after(() => server.close());

  const requestToken = (params: Record<string, string | string[]>, auth = basicAuth(agent.clientId, agent.clientSecret)) =>
    server.postForm('/token', { grant_type: 'client_credentials', ...params }, auth ? { authorization: auth } : {});

  test('AT-08 client_secret_basic → RFC 9068 JWT with all required claims, typ at+jwt, no-store', async () => {
    const response = await requestToken({ scope: 'calc', resource: MCP_RESOURCE });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(body['scope'], 'calc');
    assert.equal(body['expires_in'], 900);
    const { header, payload } = decodeJwt(body['access_token'] as string);
    assert.equal(header['typ'], 'at+jwt');
    assert.equal(header['alg'], 'ES256');
    assert.equal(typeof header['kid'], 'string');
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']) assert.ok(claim in payload, `missing ${claim}`);
    assert.equal(payload['iss'], server.issuer);
    assert.equal(payload['sub'], agent.clientId);
    assert.equal(payload['client_id'], agent.clientId);
    assert.equal(payload['aud'], MCP_RESOURCE);
    assert.equal(payload['sub_profile'], 'ai_agent');
    assert.equal((payload['exp'] as number) - (payload['iat'] as number), 900);
  });

  test('client_secret_post works; no scope requested → every allowed scope the resource defines', async () => {
    const response = await server.postForm('/token', { grant_type: 'client_credentials', client_id: agent.clientId, client_secret: agent.clientSecret });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { scope: string; access_token: string };
    assert.equal(body.scope, 'calc files:read');
    assert.equal(decodeJwt(body.access_token).payload['aud'], MCP_RESOURCE, 'the single allowed audience is the default');
  });

  test('wrong secret → 401 invalid_client with a Basic challenge', async () => {
    const response = await requestToken({}, basicAuth(agent.clientId, 'wrong'));
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.deepEqual(await response.json(), { error: 'invalid_client', error_description: 'client authentication failed' });
  });

  test('unknown client and no client authentication → 401 invalid_client, same description', async () => {
    const unknown = await requestToken({}, basicAuth('agt_nobody', agent.clientSecret));
    assert.equal(unknown.status, 401);
    assert.equal(((await unknown.json()) as { error: string }).error, 'invalid_client');
    const anonymous = await requestToken({}, '');
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'invalid_client');
  });

  test('two authentication methods at once → invalid_request', async () => {
    const response = await requestToken({ client_id: agent.clientId, client_secret: agent.clientSecret });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  });

  test('only scopes outside the allowance or undefined by the resource → invalid_scope', async () => {
    for (const scope of ['files:write', 'made-up', 'exec made-up']) {
      const response = await requestToken({ scope });
      assert.equal(response.status, 400, scope);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_scope', scope);
    }
  });

  test('RFC 6749 §3.3 the permitted subset is granted and the response says which', async () => {
    const response = await requestToken({ scope: 'calc exec made-up' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { scope: string; access_token: string };
    assert.equal(body.scope, 'calc');
    assert.equal(decodeJwt(body.access_token).payload['scope'], 'calc');
  });

  test('no scope asked: the default scopes that need no approver; an approval is asked only when the request names the scope', async () => {
    const withExec = await registerAgentAndResource(server, { scopes: ['calc', 'files:read', 'exec'] });
    const ask = (params: Record<string, string>) => server.postForm('/token', { grant_type: 'client_credentials', ...params }, { authorization: basicAuth(withExec.clientId, withExec.clientSecret) });
    const lenient = await ask({});
    assert.equal(lenient.status, 200, await lenient.clone().text());
    const body = (await lenient.json()) as { scope: string };
    assert.deepEqual(body.scope.split(' ').sort(), ['calc', 'files:read'], 'exec (high risk: admin_approval by default) left out');
    const named = await ask({ scope: 'exec' });
    assert.equal(named.status, 400);
    assert.match(((await named.json()) as { error_description: string }).error_description, /needs an approver's approval.*approval request \S+ was created/);
  });

  test('RI-01 resource not allowed, unregistered, malformed or with a fragment → invalid_target', async () => {
    for (const resource of ['https://other.example.com/api', 'not a uri', `${MCP_RESOURCE}#frag`, 'urn:example:thing']) {
      const response = await requestToken({ resource });
      assert.equal(response.status, 400, resource);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_target', resource);
    }
  });

  test('MCP-C-04 resource with upper-case scheme and host matches the canonical URI', async () => {
    const response = await requestToken({ resource: 'HTTPS://MCP.EXAMPLE.COM/mcp', scope: 'calc' });
    assert.equal(response.status, 200);
    assert.equal(decodeJwt(((await response.json()) as { access_token: string }).access_token).payload['aud'], MCP_RESOURCE);
  });

  test('repeated scope → invalid_request; repeated resource is allowed (RFC 8707)', async () => {
    const repeated = await requestToken({ scope: ['calc', 'calc'] });
    assert.equal(repeated.status, 400);
    assert.deepEqual(await repeated.json(), { error: 'invalid_request', error_description: 'parameter scope must not be repeated' });
    const resources = await requestToken({ resource: [MCP_RESOURCE, MCP_RESOURCE], scope: 'calc' });
    assert.equal(resources.status, 200);
  });

  test('missing or unsupported grant_type', async () => {
    const missing = await server.postForm('/token', {}, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.deepEqual(await missing.json(), { error: 'invalid_request', error_description: 'grant_type is required' });
    const unsupported = await requestToken({ grant_type: 'password' });
    assert.equal(unsupported.status, 400);
    assert.equal(((await unsupported.json()) as { error: string }).error, 'unsupported_grant_type');
  });

  test('a disabled agent gets no token; enabled again, it does', async () => {
    const other = await registerAgentAndResource(server);
    assert.equal((await server.admin('POST', `/agents/${other.clientId}/disable`)).status, 200);
    const refused = await requestToken({}, basicAuth(other.clientId, other.clientSecret));
    assert.equal(refused.status, 401);
    assert.equal((await server.admin('POST', `/agents/${other.clientId}/enable`)).status, 200);
    assert.equal((await requestToken({}, basicAuth(other.clientId, other.clientSecret))).status, 200);
  });

  test('rotate-secret: the new secret works at once, the old one until the grace period ends', async () => {
    const rotating = await registerAgentAndResource(server);
    const rotated = await server.admin('POST', `/agents/${rotating.clientId}/rotate-secret`);
    const { client_secret: newSecret } = (await rotated.json()) as { client_secret: string };
    assert.notEqual(newSecret, rotating.clientSecret);
    assert.equal((await requestToken({}, basicAuth(rotating.clientId, newSecret))).status, 200);
    assert.equal((await requestToken({}, basicAuth(rotating.clientId, rotating.clientSecret))).status, 200);
    server.clock.advance(server.config.agents.secretRotationGraceSeconds + 1);
    try {
      assert.equal((await requestToken({}, basicAuth(rotating.clientId, rotating.clientSecret))).status, 401);
      assert.equal((await requestToken({}, basicAuth(rotating.clientId, newSecret))).status, 200);
    } finally {
      server.clock.advance(-(server.config.agents.secretRotationGraceSeconds + 1));
    }
  });

  test('per-agent token lifetime', async () => {
    const shortLived = await registerAgentAndResource(server, { access_token_ttl_seconds: 120 });
    const response = await requestToken({}, basicAuth(shortLived.clientId, shortLived.clientSecret));
    assert.equal(((await response.json()) as { expires_in: number }).expires_in, 120);
  });

  test('private_key_jwt: valid assertion (aud = issuer or token endpoint) → token; replayed jti, wrong aud, no exp, too long-lived → invalid_client', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const created = await server.admin('POST', '/agents', {
      name: 'keyed agent',
      scopes: ['calc'],
      audiences: [MCP_RESOURCE],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
    });
    assert.equal(created.status, 201);
    const { client_id: clientId, client_secret: secret } = (await created.json()) as { client_id: string; client_secret?: string };
    assert.equal(secret, undefined, 'a private_key_jwt agent has no secret');

    const assertion = (claims: { aud?: string; exp?: number | null; jti?: string }) => {
      const jwt = new SignJWT({ jti: claims.jti ?? randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(claims.aud ?? server.issuer)
        .setIssuedAt(server.clock.now());
      if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? server.clock.now() + 60);
      return jwt.sign(privateKey);
    };
    const withAssertion = async (jwt: string) =>
      server.postForm('/token', {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
      });

    assert.equal((await withAssertion(await assertion({}))).status, 200);
    assert.equal((await withAssertion(await assertion({ aud: `${server.issuer}/token` }))).status, 200);

    const once = await assertion({ jti: 'only-once' });
    assert.equal((await withAssertion(once)).status, 200);
    const replay = await withAssertion(once);
    assert.equal(replay.status, 401);
    assert.equal(((await replay.json()) as { error: string }).error, 'invalid_client');

    for (const bad of [
      await assertion({ aud: 'https://someone-else.example.com' }),
      await assertion({ exp: null }),
      await assertion({ exp: server.clock.now() + 3600 }),
      await assertion({ exp: server.clock.now() - 600 }),
    ]) {
      const response = await withAssertion(bad);
      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
    }
    // A secret presented for a private_key_jwt agent does not authenticate it.
    assert.equal((await requestToken({}, basicAuth(clientId, 'anything'))).status, 401);
  });
});
