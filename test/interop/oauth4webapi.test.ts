import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { runCliJson, type ServerProcess, startServerProcess, mandateEnv } from '../helpers/processes.ts';

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
});
