import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { hashSecret } from '../../src/tokens/secret.ts';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createUser, obtainCode, pkce, redeemCode, redirectParams } from '../helpers/user-flow.ts';

const CURSOR = 'cursor://anysphere.cursor-mcp/oauth/callback';
const LOOPBACK = 'http://127.0.0.1/callback';

/** POSTs JSON to the registration endpoint. */
function register(server: TestServer, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function registered(server: TestServer, body: Record<string, unknown>): Promise<Record<string, unknown> & { client_id: string; registration_access_token: string }> {
  const response = await register(server, body);
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as Record<string, unknown> & { client_id: string; registration_access_token: string };
}

const mcpHost = { client_name: 'Cursor', redirect_uris: [CURSOR, LOOPBACK], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };

/**
 * Issue 9 item 1 over real HTTP on both stores: RFC 7591 registration (open, public clients with PKCE, as MCP hosts
 * do it), the one redirect-URI policy, RFC 7591 errors, RFC 7592 management with a hashed registration access token,
 * software statements, unused registrations expiring, and how registered clients show in the admin API and on the
 * consent page.
 */
forEachStore('dynamic client registration (RFC 7591, RFC 7592)', (fixture) => {
  let server: TestServer;
  let issuerKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let issuerJwk: Record<string, unknown>;

  before(async () => {
    const pair = await generateKeyPair('ES256');
    issuerKey = pair.privateKey;
    issuerJwk = { ...(await exportJWK(pair.publicKey)), kid: 'ss1', alg: 'ES256' };
    server = await startTestServer(fixture, {
      registration: { perIpPerMinute: 0, softwareStatementIssuers: [{ issuer: 'https://software.example', jwks: { keys: [issuerJwk] } }] },
    });
    await registerAgentAndResource(server);
    await createUser(server, 'ada@example.com');
  });
  after(() => server.close());

  test('DCR-03 a public MCP host registers with no credentials: 201, echoed metadata, then code + PKCE with its cursor:// and loopback redirects', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata['registration_endpoint'], `${server.issuer}/register`);

    const client = await registered(server, { ...mcpHost, unknown_member: 'ignored' });
    assert.match(client.client_id, /^app_/);
    assert.equal(client['client_secret'], undefined, 'a public client gets no secret');
    assert.equal(client['client_secret_expires_at'], undefined);
    assert.equal(client['client_id_issued_at'], server.clock.now());
    assert.deepEqual(client['redirect_uris'], [CURSOR, LOOPBACK]);
    assert.equal(client['token_endpoint_auth_method'], 'none');
    assert.deepEqual(client['grant_types'], ['authorization_code', 'refresh_token']);
    assert.deepEqual(client['response_types'], ['code']);
    assert.equal(client['client_name'], 'Cursor');
    assert.equal(client['unknown_member'], undefined, 'unknown metadata is ignored (RFC 7591 §2)');
    assert.equal(client['registration_client_uri'], `${server.issuer}/register/${client.client_id}`);
    assert.equal(typeof client.registration_access_token, 'string');

    // RFC 7592's token is stored as its SHA-256 only.
    const stored = await fixture.store.getClientRegistration(client.client_id);
    assert.equal(stored?.registrationTokenHash, hashSecret(client.registration_access_token));
    assert.equal(stored?.source, 'dynamic');

    // The loopback redirect with any port, through login and consent; the consent page says it registered itself.
    const browser = new Browser();
    const { verifier, challenge } = pkce();
    const redirectUri = 'http://127.0.0.1:49152/callback';
    const { response, consentPage } = await authorizeInBrowser(server, browser, {
      response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 's', scope: 'calc offline_access', resource: MCP_RESOURCE,
    });
    assert.match(consentPage ?? '', /registered itself/);
    assert.match(consentPage ?? '', /unverified/);
    assert.match(consentPage ?? '', /a program on this device/, 'MCP-AS-05: the result stays on localhost');
    const code = redirectParams(response).get('code')!;
    const token = await redeemCode(server, { clientId: client.client_id, scope: 'calc', redirectUri }, code, verifier, { resource: MCP_RESOURCE });
    assert.equal(token.status, 200, await token.clone().text());
    const body = (await token.json()) as { scope: string; refresh_token?: string };
    assert.deepEqual(body.scope.split(' ').sort(), ['calc', 'offline_access']);
    assert.ok(body.refresh_token, 'refresh_token was registered, and offline_access asked for');

    // The cursor:// redirect (a private-use scheme without a dot) is accepted at the authorization endpoint too.
    const cursor = await authorizeInBrowser(server, browser, {
      response_type: 'code', client_id: client.client_id, redirect_uri: CURSOR, code_challenge: challenge, code_challenge_method: 'S256', state: 's', scope: 'calc', resource: MCP_RESOURCE,
    });
    assert.ok(cursor.response.headers.get('location')?.startsWith('cursor://anysphere.cursor-mcp/oauth/callback?code='));
  });

  test('BCP-15 a registration cannot choose its client_id: a user’s subject or another client’s id in the body is ignored (RFC 9700 §4.15)', async () => {
    const userId = await createUser(server, 'grace@example.com');
    assert.match(userId, /^usr_/);
    const first = await registered(server, mcpHost);
    for (const wanted of [userId, first.client_id, 'agt_chosen']) {
      const client = await registered(server, { ...mcpHost, client_id: wanted });
      assert.match(client.client_id, /^app_/, wanted);
      assert.notEqual(client.client_id, wanted);
      assert.notEqual(client.client_id, first.client_id);
    }
    // The namespaces do not meet: a client's id can never be read as a person's subject.
    assert.equal((await fixture.store.getUser(first.client_id)) ?? null, null);
  });

  test('DCR-02 redirect URIs: http to a non-loopback host, javascript:, data:, file:, a fragment → invalid_redirect_uri naming the URI', async () => {
    for (const uri of ['http://app.example.com/cb', 'javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'https://app.example.com/cb#frag', 'https://user:pw@app.example.com/cb', 'not a uri']) {
      const response = await register(server, { ...mcpHost, redirect_uris: [uri] });
      assert.equal(response.status, 400, uri);
      const error = (await response.json()) as { error: string; error_description: string };
      assert.equal(error.error, 'invalid_redirect_uri', uri);
      assert.ok(error.error_description.length > 10, uri);
    }
    const none = await register(server, { ...mcpHost, redirect_uris: [] });
    assert.equal(((await none.json()) as { error: string }).error, 'invalid_redirect_uri');
    // https, loopback http on any port, private-use schemes with or without a dot.
    const ok = await registered(server, { ...mcpHost, redirect_uris: ['https://app.example.com/cb', 'http://localhost:3000/cb', 'http://[::1]/cb', 'com.example.app:/cb', 'vscode://vscode.github-authentication/did-authenticate'] });
    assert.equal((ok['redirect_uris'] as string[]).length, 5);
  });

  test('DCR-01 and invalid_client_metadata: both jwks and jwks_uri, unsupported grant types, a private key, bad URLs, a non-object body', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk = publicKey.export({ format: 'jwk' });
    const cases: [string, unknown][] = [
      ['jwks and jwks_uri', { ...mcpHost, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] }, jwks_uri: 'https://app.example.com/jwks' }],
      ['private_key_jwt without keys', { ...mcpHost, token_endpoint_auth_method: 'private_key_jwt' }],
      ['jwks without private_key_jwt', { ...mcpHost, jwks: { keys: [publicJwk] } }],
      ['a private key (SR-12)', { ...mcpHost, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [privateKey.export({ format: 'jwk' })] } }],
      ['client_credentials', { ...mcpHost, grant_types: ['client_credentials'] }],
      ['no authorization_code', { ...mcpHost, grant_types: ['refresh_token'] }],
      ['response_types token', { ...mcpHost, response_types: ['token'] }],
      ['client_secret_jwt', { ...mcpHost, token_endpoint_auth_method: 'client_secret_jwt' }],
      ['a javascript: logo', { ...mcpHost, logo_uri: 'javascript:alert(1)' }],
      ['an unknown scope', { ...mcpHost, scope: 'calc nonexistent' }],
      ['an array body', [mcpHost]],
      ['a string name', { ...mcpHost, client_name: 42 }],
    ];
    for (const [label, body] of cases) {
      const response = await register(server, body);
      assert.equal(response.status, 400, label);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_client_metadata', label);
    }
    const notJson = await fetch(`${server.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { error: string }).error, 'invalid_request');
    // Nothing was written by any refusal: no registration row carries these names.
    const rows = await fixture.store.listClients({ kind: 'app' });
    assert.ok(rows.every((row) => row.name !== '42'));
  });

  test('DCR confidential clients: client_secret_basic gets a secret (expires_at 0) that authenticates; private_key_jwt with a public JWK', async () => {
    const confidential = await registered(server, { client_name: 'Web', redirect_uris: ['https://web.example/cb'] });
    assert.equal(confidential['token_endpoint_auth_method'], 'client_secret_basic', 'the RFC 7591 default');
    assert.equal(confidential['client_secret_expires_at'], 0);
    const secret = confidential['client_secret'] as string;
    const good = await server.postForm('/revoke', { token: 'unknown' }, { authorization: basicAuth(confidential.client_id, secret) });
    assert.equal(good.status, 200);
    const bad = await server.postForm('/revoke', { token: 'unknown' }, { authorization: basicAuth(confidential.client_id, 'wrong') });
    assert.equal(bad.status, 401);
    assert.equal((await fixture.store.getClient(confidential.client_id))?.secretHash, hashSecret(secret));

    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwtClient = await registered(server, { ...mcpHost, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1' }] } });
    assert.equal(jwtClient['client_secret'], undefined);
    assert.equal(((jwtClient['jwks'] as { keys: unknown[] }).keys).length, 1);
  });

  test('RFC 7592: read, update and delete with the registration access token; a wrong token or another client → 401 invalid_token', async () => {
    const client = await registered(server, mcpHost);
    const other = await registered(server, mcpHost);
    const manage = (method: string, clientId: string, token: string | null, body?: unknown) =>
      fetch(`${server.issuer}/register/${clientId}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });

    const read = await manage('GET', client.client_id, client.registration_access_token);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('cache-control'), 'no-store');
    const current = (await read.json()) as Record<string, unknown>;
    assert.equal(current['client_id'], client.client_id);
    assert.equal(current['registration_access_token'], undefined, 'only its hash is kept');

    for (const [clientId, token] of [[client.client_id, 'wrong'], [client.client_id, other.registration_access_token], [client.client_id, null], ['app_nonexistent', client.registration_access_token]] as const) {
      const refused = await manage('GET', clientId, token);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_token');
    }

    const updated = await manage('PUT', client.client_id, client.registration_access_token, { ...mcpHost, client_id: client.client_id, client_name: 'Cursor 2', redirect_uris: [CURSOR] });
    assert.equal(updated.status, 200, await updated.clone().text());
    assert.equal(((await updated.json()) as { client_name: string }).client_name, 'Cursor 2');
    assert.deepEqual((await fixture.store.getClient(client.client_id))?.redirectUris, [CURSOR]);
    const badUpdate = await manage('PUT', client.client_id, client.registration_access_token, { ...mcpHost, client_id: client.client_id, redirect_uris: ['http://evil.example/cb'] });
    assert.equal(((await badUpdate.json()) as { error: string }).error, 'invalid_redirect_uri');
    const wrongId = await manage('PUT', client.client_id, client.registration_access_token, { ...mcpHost, client_id: other.client_id });
    assert.equal(((await wrongId.json()) as { error: string }).error, 'invalid_client_metadata');

    assert.equal((await manage('DELETE', client.client_id, client.registration_access_token)).status, 204);
    assert.equal(await fixture.store.getClient(client.client_id), null);
    assert.equal((await manage('GET', client.client_id, client.registration_access_token)).status, 401);
    // An operator-created client cannot be managed through RFC 7592 at all.
    const operatorClient = await server.admin('POST', '/clients', { name: 'Ops', redirect_uris: [CURSOR], public: true });
    assert.equal(operatorClient.status, 201, 'the CLI/admin API accept cursor:// too');
    const operatorId = ((await operatorClient.json()) as { client_id: string }).client_id;
    assert.equal((await manage('GET', operatorId, client.registration_access_token)).status, 401);
  });

  test('registered clients show as such in the admin API: source dynamic, unverified; operator clients as operator (registration null)', async () => {
    const client = await registered(server, mcpHost);
    const shown = (await (await server.admin('GET', `/clients/${client.client_id}`)).json()) as { registration: { source: string; registered_at: number } | null };
    assert.equal(shown.registration?.source, 'dynamic');
    assert.equal(shown.registration?.registered_at, server.clock.now());
    const list = (await (await server.admin('GET', '/clients')).json()) as { clients: { client_id: string; registration: unknown }[] };
    assert.ok(list.clients.some((c) => c.client_id === client.client_id && c.registration !== null));
    assert.ok(list.clients.some((c) => c.registration === null));
  });

  test('software statements (RFC 7591 §2.3): a trusted issuer’s statement overrides the request; unknown issuer → unapproved; bad signature or expired → invalid', async () => {
    const sign = (claims: Record<string, unknown>, key = issuerKey) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'ss1' }).setIssuedAt(server.clock.now()).sign(key);
    const statement = await sign({ iss: 'https://software.example', client_name: 'Signed Tool', software_id: 'tool-1', exp: server.clock.now() + 600 });
    const client = await registered(server, { ...mcpHost, client_name: 'Unsigned name', software_statement: statement });
    assert.equal(client['client_name'], 'Signed Tool');
    assert.equal(client['software_id'], 'tool-1');
    const shown = (await (await server.admin('GET', `/clients/${client.client_id}`)).json()) as { registration: { software_statement_issuer?: string } };
    assert.equal(shown.registration.software_statement_issuer, 'https://software.example');

    const stranger = await sign({ iss: 'https://other.example', client_name: 'x' });
    assert.equal(((await (await register(server, { ...mcpHost, software_statement: stranger })).json()) as { error: string }).error, 'unapproved_software_statement');
    const otherKey = (await generateKeyPair('ES256')).privateKey;
    const forged = await sign({ iss: 'https://software.example', client_name: 'x' }, otherKey);
    assert.equal(((await (await register(server, { ...mcpHost, software_statement: forged })).json()) as { error: string }).error, 'invalid_software_statement');
    const expired = await sign({ iss: 'https://software.example', exp: server.clock.now() - 3600 });
    assert.equal(((await (await register(server, { ...mcpHost, software_statement: expired })).json()) as { error: string }).error, 'invalid_software_statement');
    assert.equal(((await (await register(server, { ...mcpHost, software_statement: 'not.a.jwt' })).json()) as { error: string }).error, 'invalid_software_statement');
  });

  test('a registered client nobody ever used is deleted after registration.unusedClientTtlSeconds; one with a grant stays', async () => {
    const unused = await registered(server, mcpHost);
    const used = await registered(server, { ...mcpHost, redirect_uris: ['https://app.example.com/callback'] });
    await obtainCode(server, { clientId: used.client_id, scope: 'calc', resource: MCP_RESOURCE });
    server.clock.advance(86_400 + 1);
    await registered(server, mcpHost);
    assert.equal(await fixture.store.getClient(unused.client_id), null, 'the unused client expired');
    assert.ok(await fixture.store.getClient(used.client_id), 'the used client stays');
    const rows = await fixture.store.listAuditRows({ event: 'client.registration_expired', limit: 10 });
    assert.ok(rows.some((row) => (row.detail['clients'] as string[]).includes(unused.client_id)));
  });
});

forEachStore('registration settings: initial access token, off, rate limit; jwks_uri', (fixture) => {
  test('initial-access-token mode: no token or a wrong one → 401 invalid_token; a configured one → 201', async () => {
    const server = await startTestServer(fixture, { registration: { mode: 'initial-access-token', initialAccessTokenHashes: [hashSecret('let-me-in')] } });
    try {
      const none = await register(server, mcpHost);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { error: string }).error, 'invalid_token');
      assert.equal((await register(server, mcpHost, { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await register(server, mcpHost, { authorization: 'Bearer let-me-in' })).status, 201);
    } finally {
      await server.close();
    }
  });

  test('off: no registration endpoint, and none advertised', async () => {
    const server = await startTestServer(fixture, { registration: { mode: 'off' } });
    try {
      assert.equal((await register(server, mcpHost)).status, 404);
      const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.equal(metadata['registration_endpoint'], undefined);
    } finally {
      await server.close();
    }
  });

  test('rate-limited per address on the frozen clock: the 3rd registration in a minute → 429 with Retry-After; a minute later it works', async () => {
    const server = await startTestServer(fixture, { registration: { perIpPerMinute: 2 } });
    try {
      assert.equal((await register(server, mcpHost)).status, 201);
      assert.equal((await register(server, mcpHost)).status, 201);
      const limited = await register(server, mcpHost);
      assert.equal(limited.status, 429);
      assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
      server.clock.advance(60);
      assert.equal((await register(server, mcpHost)).status, 201);
    } finally {
      await server.close();
    }
  });

  test('private_key_jwt with jwks_uri: the keys are read once through the SSRF-checked fetch (development http here) and authenticate the client; a loopback jwks_uri without the setting, or a private key in the set, is refused', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    let served: unknown = { keys: [publicJwk] };
    const keys = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(served)));
    keys.listen(0, '127.0.0.1');
    await once(keys, 'listening');
    const jwksUri = `http://127.0.0.1:${(keys.address() as { port: number }).port}/jwks.json`;
    const strict = await startTestServer(fixture);
    const dev = await startTestServer(fixture, { clientMetadataDocuments: { allowHttpLocalhost: true } });
    try {
      const body = { ...mcpHost, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri };
      const refused = await register(strict, body);
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { error_description: string }).error_description, /jwks_uri .* must be an https URL/);

      const response = await register(dev, body);
      assert.equal(response.status, 201, await response.clone().text());
      const client = (await response.json()) as { client_id: string; jwks_uri: string; jwks?: unknown };
      assert.equal(client.jwks_uri, jwksUri);
      assert.equal(client.jwks, undefined, 'a client that sent jwks_uri gets jwks_uri back');
      const now = dev.clock.now();
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(client.client_id)
        .setSubject(client.client_id)
        .setAudience(`${dev.issuer}/token`)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(pair.privateKey);
      const revoke = await dev.postForm('/revoke', { token: 'unknown', client_id: client.client_id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
      assert.equal(revoke.status, 200, await revoke.clone().text());

      served = { keys: [(await exportJWK(pair.privateKey))] };
      const privateSet = await register(dev, body);
      assert.equal(privateSet.status, 400);
      const error = (await privateSet.json()) as { error: string; error_description: string };
      assert.equal(error.error, 'invalid_client_metadata');
      assert.match(error.error_description, /private key material/);
    } finally {
      await strict.close();
      await dev.close();
      keys.close();
    }
  });
});
