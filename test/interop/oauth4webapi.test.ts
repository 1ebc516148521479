import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { runCliJson, type ServerProcess, startServerProcess, mandateEnv } from '../helpers/processes.ts';
import { signInAndConsent } from '../helpers/sign-in.ts';

/**
 * A client nobody here wrote (panva's oauth4webapi) against `mandate serve` running as its own process, set up
 * through the CLI: discovery → client_credentials → introspection → revocation → introspection again.
 */
forEachStore('oauth4webapi end to end', (fixture) => {
  let server: ServerProcess;
  let agent: { client_id: string; client_secret: string };
  const resource = 'https://mcp.example.com/mcp';

  before(async () => {
    const env = mandateEnv(fixture.url);
    await runCliJson(['resource', 'create', '--uri', resource, '--scope', 'calc files:read'], env);
    agent = await runCliJson(['agent', 'create', '--name', 'interop agent', '--scope', 'calc files:read', '--audience', resource], env);
    await runCliJson(['user', 'create', '--email', 'dcr@example.com'], env, 'correct horse battery staple\n');
    server = await startServerProcess(await freePort(), env);
  });
  after(() => server?.stop());

  test('discovery, client_credentials, introspection and revocation with oauth4webapi', async () => {
    const issuer = new URL(server.issuer);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
    assert.equal(as.issuer, server.issuer);

    const client: oauth.Client = { client_id: agent.client_id };
    const auth = oauth.ClientSecretBasic(agent.client_secret);
    const tokenResponse = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'files:read', resource }, insecure),
    );
    assert.equal(tokenResponse.token_type, 'bearer');
    assert.equal(tokenResponse.scope, 'files:read');

    const introspected = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, tokenResponse.access_token, insecure));
    assert.equal(introspected.active, true);
    assert.equal(introspected.sub, agent.client_id);
    assert.equal(introspected.aud, resource);
    assert.equal(introspected.scope, 'files:read');

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, tokenResponse.access_token, insecure));
    const afterRevocation = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, tokenResponse.access_token, insecure));
    assert.equal(afterRevocation.active, false);
  });

  test('oauth4webapi surfaces our RFC 6749 errors as ResponseBodyError with the right code', async () => {
    const issuer = new URL(server.issuer);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
    const client: oauth.Client = { client_id: agent.client_id };
    const request = oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(agent.client_secret), { scope: 'exec' }, insecure);
    await assert.rejects(
      oauth.processClientCredentialsResponse(as, client, await request),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_scope' && err.status === 400,
    );
  });

  test('DCR-03 oauth4webapi registers a public client (RFC 7591) and runs code + PKCE with it; a refused redirect URI is its ResponseBodyError', async () => {
    const issuer = new URL(server.issuer);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
    assert.equal(as.registration_endpoint, `${server.issuer}/register`);
    const redirectUri = 'http://127.0.0.1:8976/callback';
    const client = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, { client_name: 'oauth4webapi', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] }, insecure),
    );
    assert.match(client.client_id, /^app_/);
    assert.equal(client.token_endpoint_auth_method, 'none');

    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri, scope: 'calc', resource, state: 'st', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) {
      url.searchParams.set(name, value);
    }
    const { location } = await signInAndConsent(url.href, { email: 'dcr@example.com' });
    const params = oauth.validateAuthResponse(as, client, new URL(location), 'st');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, { ...insecure, additionalParameters: { resource } }),
    );
    assert.equal(tokens.scope, 'calc');

    await assert.rejects(
      oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: ['http://evil.example/cb'], token_endpoint_auth_method: 'none' }, insecure)),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_redirect_uri' && err.status === 400,
    );
  });
});
