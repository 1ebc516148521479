import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { argumentsSha256, createDpopProof, dpopKeyFrom } from '@mandate/protocol';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser, pkce, redirectParams } from '../helpers/user-flow.ts';

/**
 * RFC 9126 Pushed Authorization Requests over real HTTP, on both stores: the endpoint (client authentication as at
 * the token endpoint, every parameter validated as at /authorize, 201 with a single-use, short-lived request_uri),
 * the authorization endpoint's use of it, DPoP at the PAR endpoint (RFC 9449 §10.1), and the per-client and global
 * "PAR required" settings. The server's clock is the test's: expiry is reached by advancing it.
 */
const REDIRECT = 'https://app.example.com/callback';
const REQUEST_URI = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{20,}$/;

forEachStore('pushed authorization requests (RFC 9126)', (fixture) => {
  let server: TestServer;
  let app: { clientId: string; clientSecret?: string };

  before(async () => {
    server = await startTestServer(fixture);
    await registerAgentAndResource(server, {}, MCP_RESOURCE);
    await createUser(server, 'ada@example.com');
    app = await createApp(server, { audiences: [MCP_RESOURCE] });
  });
  after(() => server.close());

  const push = (params: Record<string, string>, client = app, headers: Record<string, string> = {}) =>
    server.postForm('/par', params, { authorization: basicAuth(client.clientId, client.clientSecret!), ...headers });

  function codeRequest(extra: Record<string, string> = {}) {
    const { verifier, challenge } = pkce();
    const params = { response_type: 'code', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-par', scope: 'calc', resource: MCP_RESOURCE, ...extra };
    return { verifier, params };
  }

  async function pushed(extra: Record<string, string> = {}, client = app): Promise<{ requestUri: string; verifier: string }> {
    const { verifier, params } = codeRequest(extra);
    const response = await push(params, client);
    assert.equal(response.status, 201, await response.clone().text());
    return { requestUri: ((await response.json()) as { request_uri: string }).request_uri, verifier };
  }

  const redeem = (code: string, verifier: string, headers: Record<string, string> = {}) =>
    server.postForm('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT }, { authorization: basicAuth(app.clientId, app.clientSecret!), ...headers });

  test('PAR-01 201 with a urn request_uri and expires_in; client_id + request_uri alone complete the flow, the query’s other parameters ignored', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata['pushed_authorization_request_endpoint'], `${server.issuer}/par`);
    assert.equal(metadata['require_pushed_authorization_requests'], false);

    const { verifier, params } = codeRequest();
    const response = await push(params);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as { request_uri: string; expires_in: number };
    assert.match(body.request_uri, REQUEST_URI);
    assert.equal(body.expires_in, 60, 'the documented default lifetime');

    // RFC 9126 §4: only the pushed parameters count; a redirect_uri or scope added to the query changes nothing.
    const { response: back } = await authorizeInBrowser(server, new Browser(), { client_id: app.clientId, request_uri: body.request_uri, redirect_uri: 'https://evil.example/cb', scope: 'exec' });
    const returned = redirectParams(back);
    assert.ok(back.headers.get('location')!.startsWith(`${REDIRECT}?`));
    assert.equal(returned.get('state'), 'st-par');
    assert.equal(returned.get('iss'), server.issuer);
    const tokens = await redeem(returned.get('code')!, verifier);
    assert.equal(tokens.status, 200);
    const token = (await tokens.json()) as { scope: string; access_token: string };
    assert.equal(token.scope, 'calc');
    const claims = JSON.parse(Buffer.from(token.access_token.split('.')[1]!, 'base64url').toString()) as { aud: string };
    assert.equal(claims.aud, MCP_RESOURCE, 'resource (RFC 8707) travels through PAR');
  });

  test('PAR-02 a request_uri inside a pushed request → 400; every parameter validated as at /authorize, with its error', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ request_uri: 'urn:ietf:params:oauth:request_uri:abc' }, 'invalid_request', /request_uri must not be sent/],
      [{ code_challenge_method: 'plain' }, 'invalid_request', /S256/],
      [{ code_challenge: '' }, 'invalid_request', /code_challenge is required/],
      [{ response_type: 'token' }, 'unsupported_response_type', /code/],
      [{ redirect_uri: 'https://evil.example/cb' }, 'invalid_request', /redirect_uri does not match/],
      [{ scope: 'files:write' }, 'invalid_scope', /files:write/],
      [{ request: 'eyJ.eyJ.sig' }, 'request_not_supported', /request objects/],
      [{ authorization_details: '[{"type":"nope"}]' }, 'invalid_authorization_details', /not supported/],
      [{ dpop_jkt: 'short' }, 'invalid_request', /dpop_jkt/],
      [{ client_id: 'app_someone_else' }, 'invalid_request', /client_id does not match/],
    ];
    for (const [extra, error, description] of cases) {
      const response = await push(codeRequest(extra).params);
      assert.equal(response.status, 400, JSON.stringify(extra));
      const body = (await response.json()) as { error: string; error_description: string };
      assert.equal(body.error, error, JSON.stringify(extra));
      assert.match(body.error_description, description);
    }
    const unauthenticated = await server.postForm('/par', { ...codeRequest().params, client_id: app.clientId });
    assert.equal(unauthenticated.status, 401);
    assert.equal(((await unauthenticated.json()) as { error: string }).error, 'invalid_client');
    const wrongSecret = await push(codeRequest().params, { clientId: app.clientId, clientSecret: 'wrong' });
    assert.equal(wrongSecret.status, 401);
    assert.notEqual((await fetch(`${server.issuer}/par`)).status, 200, 'GET is not a pushed request');
  });

  test('PAR-03 a request_uri is used once, and not after it expires', async () => {
    const { requestUri } = await pushed();
    const query = new URLSearchParams({ client_id: app.clientId, request_uri: requestUri });
    const first = await new Browser().fetch(`${server.issuer}/authorize?${query}`);
    assert.equal(first.status, 302, 'to the login page');
    const login = new URL(first.headers.get('location')!, server.issuer);
    const comeBack = new URLSearchParams(new URL(login.searchParams.get('return_to')!, server.issuer).search);
    assert.match(comeBack.get('request_uri')!, REQUEST_URI);
    assert.notEqual(comeBack.get('request_uri'), requestUri, 'the login page comes back with a fresh request_uri');
    assert.equal(comeBack.get('scope'), null, 'the pushed parameters never enter the browser URL');

    const again = await new Browser().fetch(`${server.issuer}/authorize?${query}`);
    assert.equal(again.status, 400);
    assert.match(await again.text(), /unknown, expired, already used/);

    // The login page's request_uri lives 10 minutes from the push; coming back without signing in never extends it.
    let kept = comeBack.get('request_uri')!;
    server.clock.advance(500);
    const revisit = await new Browser().fetch(`${server.issuer}/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: kept })}`);
    assert.equal(revisit.status, 302, 'to the login page again');
    kept = new URLSearchParams(new URL(new URL(revisit.headers.get('location')!, server.issuer).searchParams.get('return_to')!, server.issuer).search).get('request_uri')!;
    server.clock.advance(101);
    const stale = await new Browser().fetch(`${server.issuer}/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: kept })}`);
    assert.equal(stale.status, 400, '601 s after the push');

    const late = await pushed();
    server.clock.advance(61);
    const expired = await new Browser().fetch(`${server.issuer}/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: late.requestUri })}`);
    assert.equal(expired.status, 400);
    const unknown = await new Browser().fetch(`${server.issuer}/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri: 'https://elsewhere.example/request' })}`);
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /invalid_request_uri/);
  });

  test('PAR-04 a request_uri presented with another client_id is refused, and stays usable by its own client', async () => {
    const other = await createApp(server, { name: 'Other App', audiences: [MCP_RESOURCE] });
    const { requestUri, verifier } = await pushed();
    const stolen = await new Browser().fetch(`${server.issuer}/authorize?${new URLSearchParams({ client_id: other.clientId, request_uri: requestUri })}`);
    assert.equal(stolen.status, 400);
    const { response } = await authorizeInBrowser(server, new Browser(), { client_id: app.clientId, request_uri: requestUri });
    assert.equal((await redeem(redirectParams(response).get('code')!, verifier)).status, 200);
  });

  test('DP-18 DPoP at the PAR endpoint binds the code to its key; a dpop_jkt naming another key is refused; a bad proof is invalid_dpop_proof', async () => {
    const key = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    const proof = (url: string) => createDpopProof(key, { method: 'POST', url }, server.clock.now());
    const { verifier, params } = codeRequest();
    const response = await push(params, app, { dpop: proof(`${server.issuer}/par`) });
    assert.equal(response.status, 201);
    const { request_uri } = (await response.json()) as { request_uri: string };
    const { response: back } = await authorizeInBrowser(server, new Browser(), { client_id: app.clientId, request_uri });
    const code = redirectParams(back).get('code')!;
    const unbound = await redeem(code, verifier);
    assert.equal(unbound.status, 400, 'the code needs a proof of the PAR key');
    assert.equal(((await unbound.json()) as { error: string }).error, 'invalid_grant');

    const second = codeRequest();
    const again = await push(second.params, app, { dpop: proof(`${server.issuer}/par`) });
    const { response: back2 } = await authorizeInBrowser(server, new Browser(), { client_id: app.clientId, request_uri: ((await again.json()) as { request_uri: string }).request_uri });
    const bound = await redeem(redirectParams(back2).get('code')!, second.verifier, { dpop: proof(`${server.issuer}/token`) });
    assert.equal(bound.status, 200);
    assert.equal(((await bound.json()) as { token_type: string }).token_type, 'DPoP');

    const otherKey = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    const mismatch = await push(codeRequest({ dpop_jkt: otherKey.jkt }).params, app, { dpop: proof(`${server.issuer}/par`) });
    assert.equal(mismatch.status, 400);
    assert.match(((await mismatch.json()) as { error_description: string }).error_description, /dpop_jkt does not match/);
    const wrongHtu = await push(codeRequest().params, app, { dpop: proof(`${server.issuer}/token`) });
    assert.equal(wrongHtu.status, 400);
    assert.equal(((await wrongHtu.json()) as { error: string }).error, 'invalid_dpop_proof');
  });

  test('PAR required for one client (admin API): its plain requests are redirected with invalid_request, its pushed ones work', async () => {
    const strict = await createApp(server, { name: 'Strict App', audiences: [MCP_RESOURCE] });
    const patched = await server.admin('PATCH', `/clients/${strict.clientId}`, { require_pushed_authorization_requests: true });
    assert.equal(((await patched.json()) as { require_pushed_authorization_requests: boolean }).require_pushed_authorization_requests, true);
    const { params } = codeRequest();
    const plain = await new Browser().fetch(`${server.issuer}/authorize?${new URLSearchParams({ ...params, client_id: strict.clientId })}`);
    assert.equal(plain.status, 302);
    const refused = redirectParams(plain);
    assert.equal(refused.get('error'), 'invalid_request');
    assert.match(refused.get('error_description')!, /must be pushed first/);
    assert.equal(refused.get('iss'), server.issuer);
    // Another client is not affected; the strict one gets through by PAR.
    const { response } = await authorizeInBrowser(server, new Browser(), { ...codeRequest().params, client_id: app.clientId });
    assert.ok(redirectParams(response).get('code'));
    const { requestUri } = await pushed({}, strict);
    const { response: viaPar } = await authorizeInBrowser(server, new Browser(), { client_id: strict.clientId, request_uri: requestUri });
    assert.ok(redirectParams(viaPar).get('code'));
  });

  test('RAR-06 authorization_details through PAR: the user sees the one tool call, the token carries exactly it (short-lived, no refresh token); never remembered, never in a plain request', async () => {
    const resourceId = ((await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] }).resources.find((r) => r.resource === MCP_RESOURCE)!.id;
    assert.equal((await server.admin('PUT', `/resources/${resourceId}/tools/run_command`, { per_action_approval: true, risk: 'medium' })).status, 200);
    const detail = { type: 'mcp_tool', tool: 'run_command', arguments_sha256: argumentsSha256({ command: 'ls' }), locations: [MCP_RESOURCE] };
    const details = JSON.stringify([detail]);

    const { requestUri, verifier } = await pushed({ authorization_details: details, scope: 'calc offline_access' });
    const { response, consentPage } = await authorizeInBrowser(server, new Browser(), { client_id: app.clientId, request_uri: requestUri });
    assert.ok(consentPage, 'the user decides');
    assert.match(consentPage, /run_command/);
    assert.doesNotMatch(consentPage, /name="remember"/, 'a tool call is approved once, not remembered');
    const tokens = await redeem(redirectParams(response).get('code')!, verifier);
    assert.equal(tokens.status, 200);
    const body = (await tokens.json()) as { access_token: string; expires_in: number; refresh_token?: string; authorization_details: unknown };
    assert.deepEqual(body.authorization_details, [{ ...detail, locations: [MCP_RESOURCE] }]);
    assert.ok(body.expires_in <= 300);
    assert.equal(body.refresh_token, undefined);
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()) as { aud: unknown; authorization_details: unknown };
    assert.deepEqual(claims.authorization_details, body.authorization_details);
    assert.deepEqual([claims.aud].flat(), [MCP_RESOURCE]);

    const again = await pushed({ authorization_details: details });
    assert.ok((await authorizeInBrowser(server, new Browser(), { client_id: app.clientId, request_uri: again.requestUri })).consentPage, 'asked again: no remembered consent stands for a tool call');

    const plain = await new Browser().fetch(`${server.issuer}/authorize?${new URLSearchParams({ ...codeRequest().params, client_id: app.clientId, authorization_details: details })}`);
    assert.equal(redirectParams(plain).get('error'), 'invalid_authorization_details');
    assert.match(redirectParams(plain).get('error_description')!, /only in a pushed authorization request/);
    const unmarked = await push(codeRequest({ authorization_details: JSON.stringify([{ ...detail, tool: 'delete_everything' }]) }).params);
    assert.equal(unmarked.status, 400);
    assert.match(((await unmarked.json()) as { error_description: string }).error_description, /delete_everything .* does not take per-action approvals/);
  });

  test('a private_key_jwt client may name the PAR endpoint as its assertion audience (RFC 9126 §2)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const keyed = await createApp(server, { name: 'Keyed App', audiences: [MCP_RESOURCE], jwks: { keys: [jwk] } });
    assert.equal(keyed.clientSecret, undefined, 'no secret for a private_key_jwt client');
    const assertion = (aud: string) =>
      new SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(keyed.clientId).setSubject(keyed.clientId).setAudience(aud).setIssuedAt(server.clock.now()).setExpirationTime(server.clock.now() + 60).sign(privateKey);
    const form = async (aud: string) => ({ ...codeRequest().params, client_id: keyed.clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(aud) });
    assert.equal((await server.postForm('/par', await form(`${server.issuer}/par`))).status, 201);
    assert.equal((await server.postForm('/par', await form(server.issuer))).status, 201);
    assert.equal((await server.postForm('/par', await form(`${server.issuer}/introspect`))).status, 401);
  });
});

forEachStore('PAR required for every client; registration and the device grant (RFC 8628 §5.4)', (fixture) => {
  let server: TestServer;
  let permissive: TestServer;

  before(async () => {
    server = await startTestServer(fixture, { authorization: { requirePushedAuthorizationRequests: true }, rateLimit: { tokenPerIpPerMinute: 3 } });
    await registerAgentAndResource(server, {}, MCP_RESOURCE);
  });
  after(async () => {
    await server.close();
    await permissive?.close();
  });

  test('authorization.requirePushedAuthorizationRequests: the metadata says so and a plain request is refused with invalid_request', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata['require_pushed_authorization_requests'], true);
    const app = await createApp(server, { audiences: [MCP_RESOURCE] });
    const { challenge } = pkce();
    const plain = await new Browser().fetch(
      `${server.issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: app.clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'calc' })}`,
    );
    assert.equal(redirectParams(plain).get('error'), 'invalid_request');
    assert.match(redirectParams(plain).get('error_description')!, /RFC 9126/);
  });

  test('PAR rate limit: past the per-address budget, 429 with Retry-After (RFC 9126 §2.3); a self-registered client may require PAR of itself (§6)', async () => {
    const registered = await fetch(`${server.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9998/cb'], token_endpoint_auth_method: 'none', require_pushed_authorization_requests: true }),
    });
    assert.equal(registered.status, 201);
    const client = (await registered.json()) as { client_id: string; require_pushed_authorization_requests: boolean };
    assert.equal(client.require_pushed_authorization_requests, true);
    const view = (await (await server.admin('GET', `/clients/${encodeURIComponent(client.client_id)}`)).json()) as { require_pushed_authorization_requests: boolean };
    assert.equal(view.require_pushed_authorization_requests, true);

    const { challenge } = pkce();
    const push = () => server.postForm('/par', { client_id: client.client_id, response_type: 'code', redirect_uri: 'http://127.0.0.1:9998/cb', code_challenge: challenge, code_challenge_method: 'S256' });
    for (let i = 0; i < 3; i++) assert.equal((await push()).status, 201);
    const limited = await push();
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    server.clock.advance(60);
    assert.equal((await push()).status, 201, 'the next minute has its budget');
  });

  test('a self-registered client cannot take the device grant unless the operator allows it (registration.allowDeviceGrant)', async () => {
    const metadata = { redirect_uris: ['http://127.0.0.1:9999/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] };
    const register = (on: TestServer) => fetch(`${on.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) });
    const refused = await register(server);
    assert.equal(refused.status, 400);
    const body = (await refused.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description, /RFC 8628 §5\.4/);
    assert.equal((await fetch(`${server.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...metadata, grant_types: ['authorization_code'] }) })).status, 201);

    permissive = await startTestServer(fixture, { registration: { allowDeviceGrant: true } });
    const allowed = await register(permissive);
    assert.equal(allowed.status, 201);
    assert.ok(((await allowed.json()) as { grant_types: string[] }).grant_types.includes('urn:ietf:params:oauth:grant-type:device_code'));
  });
});
