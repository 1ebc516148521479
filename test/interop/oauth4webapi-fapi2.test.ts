import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { resolveConfig } from '../../packages/server/src/config.ts';
import { decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser } from '../../packages/server/test/helpers/user-flow.ts';
import { type DpopResource, startDpopResource } from '../helpers/dpop-resource.ts';

/**
 * The FAPI 2.0 Security Profile mode (`fapi2SecurityProfile`) with a client nobody here wrote: panva's oauth4webapi
 * (private_key_jwt, PAR, PKCE, DPoP, `iss` validation) runs a whole flow over real HTTP, PAR → authorize → token
 * with DPoP → a resource guarded by the SDK; then each shortcut the profile forbids is tried and refused with its
 * error. The server's clock is the test's.
 */
const REDIRECT = 'https://app.example.com/callback';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

forEachStore('FAPI 2.0 Security Profile mode (oauth4webapi)', (fixture) => {
  let server: TestServer;
  let resource: DpopResource;
  let as: oauth.AuthorizationServer;
  let client: oauth.Client;
  let auth: oauth.ClientAuth;
  let agent: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startTestServer(fixture, { fapi2SecurityProfile: true });
    resource = await startDpopResource(server);
    agent = await registerAgentAndResource(server, { scopes: ['calc'] }, resource.url);
    await createUser(server, 'ada@example.com');
    const keys = await oauth.generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await crypto.subtle.exportKey('jwk', keys.publicKey)), kid: 'fapi-1', alg: 'ES256' };
    delete (jwk as { key_ops?: unknown }).key_ops;
    delete (jwk as { ext?: unknown }).ext;
    const created = await createApp(server, { name: 'FAPI App', scopes: ['calc'], audiences: [resource.url], jwks: { keys: [jwk] } });
    client = { client_id: created.clientId };
    auth = oauth.PrivateKeyJwt({ key: keys.privateKey, kid: 'fapi-1' });
    const issuer = new URL(server.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
  });
  after(async () => {
    await resource.close();
    await server.close();
  });

  /** PAR (with the DPoP key, RFC 9449 §10.1) and the browser part: the callback's parameters, validated by oauth4webapi (`iss`, `state`). */
  async function authorize(DPoP: oauth.DPoPHandle, scope = 'calc'): Promise<{ callback: URLSearchParams; verifier: string }> {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const parameters = { response_type: 'code', redirect_uri: REDIRECT, scope, resource: resource.url, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state };
    const pushed = await oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, auth, parameters, { ...insecure, DPoP }));
    assert.match(pushed.request_uri, /^urn:ietf:params:oauth:request_uri:/);
    assert.ok(pushed.expires_in > 0 && pushed.expires_in <= 600);
    const { response } = await authorizeInBrowser(server, new Browser(), { client_id: client.client_id, request_uri: pushed.request_uri });
    // 303 after the consent form; 302 straight from /authorize once the consent is remembered.
    assert.ok(response.status === 303 || response.status === 302, `redirected back to the client, got ${response.status}`);
    return { callback: oauth.validateAuthResponse(as, client, new URL(response.headers.get('location')!), state), verifier };
  }

  test('FAPI2-01 a whole flow: PAR with private_key_jwt and DPoP → authorize (iss checked) → token with DPoP → the resource accepts it', async () => {
    assert.equal(as.require_pushed_authorization_requests, true);
    assert.equal(as.pushed_authorization_request_endpoint, `${server.issuer}/par`);
    assert.deepEqual(as.token_endpoint_auth_methods_supported, ['private_key_jwt']);
    assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(as.response_types_supported, ['code']);
    assert.equal(as.authorization_response_iss_parameter_supported, true);
    assert.ok(!as.grant_types_supported?.includes('password') && !as.grant_types_supported?.includes('implicit'));

    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const { callback, verifier } = await authorize(DPoP, 'calc offline_access');
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, callback, REDIRECT, verifier, { ...insecure, DPoP }));
    assert.equal(tokens.token_type, 'dpop');
    assert.equal((decodeJwt(tokens.access_token).payload['cnf'] as { jkt: string }).jkt, await DPoP.calculateThumbprint());

    // No refresh token rotation (FAPI 2.0 §5.3.2.1): the same refresh token works again; each refresh is DPoP-bound too.
    assert.ok(tokens.refresh_token);
    for (let i = 0; i < 2; i++) {
      const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, { ...insecure, DPoP }));
      assert.equal(refreshed.token_type, 'dpop');
      assert.equal(refreshed.refresh_token, undefined, 'the client keeps its refresh token');
    }

    const call = () => oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(resource.url), new Headers(), null, { ...insecure, DPoP });
    let response: Response;
    try {
      response = await call();
    } catch (err) {
      assert.ok(oauth.isDPoPNonceError(err), String(err));
      response = await call();
    }
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { jkt: string }).jkt, await DPoP.calculateThumbprint());
  });

  test('FAPI2-02 each forbidden shortcut is refused with its error', async () => {
    const refusedWith = async (response: Promise<Response>, process: (r: Response) => Promise<unknown>) => {
      const error = await process(await response).then(
        () => assert.fail('expected an error response'),
        (err: unknown) => err,
      );
      // A 401 with a Basic challenge (RFC 6749 §5.2) arrives as a challenge error; its body is the same JSON.
      if (error instanceof oauth.WWWAuthenticateChallengeError) {
        const body = (await error.response.json()) as { error: string; error_description?: string };
        return { error: body.error, description: body.error_description ?? '' };
      }
      assert.ok(error instanceof oauth.ResponseBodyError, String(error));
      return { error: error.error, description: error.error_description ?? '' };
    };
    const par = (c: oauth.Client, a: oauth.ClientAuth, params: Record<string, string>) =>
      refusedWith(oauth.pushedAuthorizationRequest(as, c, a, { response_type: 'code', redirect_uri: REDIRECT, scope: 'calc', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...params }, insecure), (r) =>
        oauth.processPushedAuthorizationResponse(as, c, r),
      );

    // A plain (not pushed) authorization request.
    const plain = await new Browser().fetch(
      `${server.issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', scope: 'calc' })}`,
    );
    const plainError = new URL(plain.headers.get('location')!).searchParams;
    assert.equal(plainError.get('error'), 'invalid_request');
    assert.match(plainError.get('error_description')!, /pushed first/);
    assert.equal(plainError.get('iss'), server.issuer);

    // Client secrets and public clients.
    const secretApp = await createApp(server, { name: 'Secret App', scopes: ['calc'], audiences: [resource.url] });
    const bySecret = await par({ client_id: secretApp.clientId }, oauth.ClientSecretBasic(secretApp.clientSecret!), {});
    assert.equal(bySecret.error, 'invalid_client');
    assert.match(bySecret.description, /private_key_jwt/);
    const publicApp = await createApp(server, { name: 'Public App', public: true, scopes: ['calc'], audiences: [resource.url] });
    assert.equal((await par({ client_id: publicApp.clientId }, oauth.None(), {})).error, 'invalid_client');
    const agentToken = await refusedWith(oauth.clientCredentialsGrantRequest(as, { client_id: agent.clientId }, oauth.ClientSecretBasic(agent.clientSecret), { scope: 'calc' }, insecure), (r) =>
      oauth.processClientCredentialsResponse(as, { client_id: agent.clientId }, r),
    );
    assert.equal(agentToken.error, 'invalid_client', 'no client secret anywhere, client_credentials included');

    // PKCE S256 only, no implicit flow, redirect_uri required in the pushed request.
    const noRedirect = await refusedWith(
      oauth.pushedAuthorizationRequest(as, client, auth, { response_type: 'code', scope: 'calc', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }, insecure),
      (r) => oauth.processPushedAuthorizationResponse(as, client, r),
    );
    assert.equal(noRedirect.error, 'invalid_request');
    assert.match(noRedirect.description, /redirect_uri is required/);
    assert.equal((await par(client, auth, { code_challenge_method: 'plain' })).error, 'invalid_request');
    assert.equal((await par(client, auth, { code_challenge: '', code_challenge_method: '' })).error, 'invalid_request');
    assert.equal((await par(client, auth, { response_type: 'token' })).error, 'unsupported_response_type');
    assert.equal((await par(client, auth, { response_type: 'code id_token' })).error, 'unsupported_response_type');

    // No password grant.
    const password = await refusedWith(oauth.genericTokenEndpointRequest(as, client, auth, 'password', { username: 'ada@example.com', password: 'x' }, insecure), (r) =>
      oauth.processGenericTokenEndpointResponse(as, client, r),
    );
    assert.equal(password.error, 'unsupported_grant_type');

    // Sender-constrained tokens only: a code redeemed without DPoP is refused (and the same code then works with it).
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const first = await authorize(DPoP);
    const bearer = await refusedWith(oauth.authorizationCodeGrantRequest(as, client, auth, first.callback, REDIRECT, first.verifier, insecure), (r) =>
      oauth.processAuthorizationCodeResponse(as, client, r),
    );
    assert.equal(bearer.error, 'invalid_dpop_proof');
    assert.match(bearer.description, /FAPI 2\.0/);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, first.callback, REDIRECT, first.verifier, { ...insecure, DPoP }));
    assert.equal(tokens.token_type, 'dpop');

    // Codes live at most 60 s.
    const late = await authorize(DPoP);
    server.clock.advance(61);
    const expired = await refusedWith(oauth.authorizationCodeGrantRequest(as, client, auth, late.callback, REDIRECT, late.verifier, { ...insecure, DPoP }), (r) =>
      oauth.processAuthorizationCodeResponse(as, client, r),
    );
    assert.equal(expired.error, 'invalid_grant');
    assert.throws(() => resolveConfig({ fapi2SecurityProfile: true, authorization: { codeTtlSeconds: 120 } }), /codeTtlSeconds must be at most 60 in the FAPI 2\.0 mode/);
    assert.throws(() => resolveConfig({ fapi2SecurityProfile: true, authorization: { pushedRequestTtlSeconds: 600 } }), /pushedRequestTtlSeconds must be less than 600 in the FAPI 2\.0 mode/);
  });
});
