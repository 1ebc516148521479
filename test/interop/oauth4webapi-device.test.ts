import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { Browser, createApp, createUser, inputValue, PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';

/**
 * RFC 8628 with a client nobody here wrote: panva's oauth4webapi (its device authorization and device code grant
 * functions) against the server, a person approving through the verification pages over HTTP. The server's clock is
 * the test's: the poll interval passes without sleeping.
 */
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

forEachStore('oauth4webapi device authorization grant', (fixture) => {
  let server: TestServer;
  const resource = 'https://device-interop.example.com/mcp';

  before(async () => {
    server = await startTestServer(fixture);
    await registerAgentAndResource(server, {}, resource);
    await createUser(server, 'interop-device@example.com');
  });
  after(() => server.close());

  async function approve(userCode: string): Promise<void> {
    const browser = new Browser();
    const login = await (await browser.fetch(`${server.issuer}/login?return_to=${encodeURIComponent('/device')}`)).text();
    const signedIn = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(login, 'csrf'), return_to: '/device', email: 'interop-device@example.com', password: PASSWORD });
    assert.equal(signedIn.status, 303);
    const entry = await (await browser.fetch(`${server.issuer}/device`)).text();
    const confirm = await browser.postForm(`${server.issuer}/device`, { csrf: inputValue(entry, 'csrf'), user_code: userCode });
    assert.equal(confirm.status, 200);
    const page = await confirm.text();
    const decided = await browser.postForm(`${server.issuer}/device/decision`, { csrf: inputValue(page, 'csrf'), user_code: inputValue(page, 'user_code'), decision: 'approve' });
    assert.equal(decided.status, 200);
  }

  async function discover() {
    const issuer = new URL(server.issuer);
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
    return { as, insecure };
  }

  const pollError = async (as: oauth.AuthorizationServer, client: oauth.Client, auth: oauth.ClientAuth, deviceCode: string, insecure: object) => {
    const error = await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth, deviceCode, insecure)).then(
      () => assert.fail('expected an error response'),
      (err: unknown) => err,
    );
    assert.ok(error instanceof oauth.ResponseBodyError, String(error));
    return error.error;
  };

  test('DAG-01 a public client (oauth4webapi None): authorization_pending, slow_down, then the token once the person approves', async () => {
    const { as, insecure } = await discover();
    assert.equal(as.device_authorization_endpoint, `${server.issuer}/device_authorization`);
    const app = await createApp(server, { public: true, scopes: ['calc'], audiences: [resource], grant_types: [DEVICE_CODE] });
    const client: oauth.Client = { client_id: app.clientId };
    const auth = oauth.None();
    const started = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, auth, { scope: 'calc', resource }, insecure));
    assert.equal(started.interval, 5);
    assert.equal(await pollError(as, client, auth, started.device_code, insecure), 'authorization_pending');
    assert.equal(await pollError(as, client, auth, started.device_code, insecure), 'slow_down');

    await approve(started.user_code);
    server.clock.advance(10);
    const tokens = await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth, started.device_code, insecure));
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'calc');
    assert.equal(decodeJwt(tokens.access_token).payload['client_id'], app.clientId);
    server.clock.advance(10);
    assert.equal(await pollError(as, client, auth, started.device_code, insecure), 'invalid_grant');
  });

  test('DAG a confidential agent (oauth4webapi ClientSecretBasic) completes the flow', async () => {
    const { as, insecure } = await discover();
    const agent = await registerAgentAndResource(server, {}, 'https://device-interop-2.example.com/mcp');
    const client: oauth.Client = { client_id: agent.clientId };
    const auth = oauth.ClientSecretBasic(agent.clientSecret);
    const started = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, auth, { scope: 'calc' }, insecure));
    await approve(started.user_code.toLowerCase());
    server.clock.advance(5);
    const tokens = await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth, started.device_code, insecure));
    assert.equal(decodeJwt(tokens.access_token).payload['client_id'], agent.clientId);
  });
});
