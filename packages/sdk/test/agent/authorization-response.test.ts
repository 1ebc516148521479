import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AgentAuthClient } from '../../src/agent/client.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

/**
 * The authorization request and the checks on its response (RFC 6749 §4.1, RFC 9207, MCP-C-05/07), driven with
 * crafted redirects: no browser is needed to forge one, which is the point.
 */
describe('authorizationUrl and handleCallback', () => {
  let as: TestIssuer;
  const redirectUri = 'http://127.0.0.1:9/callback';
  before(async () => {
    as = await startTestIssuer();
    as.addClient({ clientId: 'agt_alpha', secret: 's' });
  });
  after(() => as.close());

  /** A fresh client (metadata is cached per client) under the given metadata members. */
  function client(metadata: Record<string, unknown> = { authorization_response_iss_parameter_supported: true }, clock?: () => number): AgentAuthClient {
    as.setMetadataExtra(metadata);
    return new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: 's', app: { clientId: 'app_demo', redirectUri }, ...(clock ? { clock } : {}) });
  }

  function callback(params: Record<string, string | string[]>): string {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) for (const v of [value].flat()) url.searchParams.append(name, v);
    return url.href;
  }

  test('the request: response_type=code, the app’s client_id, S256 challenge, fresh state and nonce, resource, requested_actor = the agent', async () => {
    const agent = client();
    const a = await agent.authorizationUrl({ scope: ['openid', 'files:read'], resource: 'https://mcp.example.test/mcp', prompt: 'consent' });
    const b = await agent.authorizationUrl({ scope: 'files:read' });
    const params = new URL(a.url).searchParams;
    assert.equal(new URL(a.url).origin + new URL(a.url).pathname, `${as.origin}/authorize`);
    assert.equal(params.get('response_type'), 'code');
    assert.equal(params.get('client_id'), 'app_demo');
    assert.equal(params.get('redirect_uri'), redirectUri);
    assert.equal(params.get('scope'), 'files:read openid');
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.equal(params.get('requested_actor'), 'agt_alpha');
    assert.equal(params.get('resource'), 'https://mcp.example.test/mcp');
    assert.equal(params.get('prompt'), 'consent');
    assert.ok(params.get('nonce'));
    assert.notEqual(a.state, b.state);
    assert.equal(new URL(b.url).searchParams.get('nonce'), null, 'no openid, no nonce');
    const none = await agent.authorizationUrl({ scope: 'files:read', requestedActor: null });
    assert.equal(new URL(none.url).searchParams.get('requested_actor'), null);
  });

  test('MCP-C-05 an AS whose metadata lacks S256 in code_challenge_methods_supported is refused before any redirect', async () => {
    await assert.rejects(client({ code_challenge_methods_supported: undefined }).authorizationUrl({ scope: 'x' }), { code: 'ERR_METADATA_INVALID', member: 'code_challenge_methods_supported' });
    await assert.rejects(client({ code_challenge_methods_supported: ['plain'] }).authorizationUrl({ scope: 'x' }), { code: 'ERR_METADATA_INVALID' });
    await assert.rejects(client({ authorization_endpoint: 'http://as.example.test/authorize' }).authorizationUrl({ scope: 'x' }), { code: 'ERR_METADATA_INVALID', member: 'authorization_endpoint' });
  });

  test('a response for the pending request: the code and what redeeming it needs', async () => {
    const agent = client();
    const { state } = await agent.authorizationUrl({ scope: 'openid files:read', resource: 'https://mcp.example.test/mcp' });
    const response = agent.handleCallback(callback({ code: 'c0de', state, iss: as.issuer }));
    assert.equal(response.code, 'c0de');
    assert.equal(response.issuer, as.issuer);
    assert.equal(response.redirectUri, redirectUri);
    assert.equal(response.requestedActor, 'agt_alpha');
    assert.deepEqual(response.resource, ['https://mcp.example.test/mcp']);
    assert.match(response.codeVerifier, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(response.nonce);
  });

  test('BCP-08 a forged, repeated or used state → ERR_AUTHORIZATION_STATE_MISMATCH, and the genuine response still works', async () => {
    const agent = client();
    const { state } = await agent.authorizationUrl({ scope: 'files:read' });
    assert.throws(() => agent.handleCallback(callback({ code: 'c', state: `${state}x`, iss: as.issuer })), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' });
    assert.throws(() => agent.handleCallback(callback({ code: 'c', iss: as.issuer })), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' });
    assert.throws(() => agent.handleCallback(callback({ code: 'c', state: [state, state], iss: as.issuer })), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' });
    assert.equal(agent.handleCallback(callback({ code: 'c', state, iss: as.issuer })).code, 'c');
    assert.throws(() => agent.handleCallback(callback({ code: 'c', state, iss: as.issuer })), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' }, 'single use');
  });

  test('a response after the request expired (authorizationTtlSeconds) → ERR_AUTHORIZATION_STATE_MISMATCH', async () => {
    let now = Date.now();
    const agent = client(undefined, () => now);
    const { state } = await agent.authorizationUrl({ scope: 'files:read' });
    now += 601_000;
    assert.throws(() => agent.handleCallback(callback({ code: 'c', state, iss: as.issuer })), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' });
  });

  test('ISS-02 MCP-C-07 flag true + iss absent → ERR_AUTHORIZATION_ISSUER_MISMATCH (missing); the request is used up', async () => {
    const agent = client({ authorization_response_iss_parameter_supported: true });
    const { state } = await agent.authorizationUrl({ scope: 'files:read' });
    assert.throws(() => agent.handleCallback(callback({ code: 'c', state })), { code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH', reason: 'missing', received: undefined, expected: as.issuer });
    assert.throws(() => agent.handleCallback(callback({ code: 'c', state, iss: as.issuer })), { code: 'ERR_AUTHORIZATION_STATE_MISMATCH' });
  });

  test('ISS-02 MCP-C-07 iss compared by exact string: no case folding, trailing slash, dot segment, host alias or decoding beyond the query’s', async () => {
    const agent = client({ authorization_response_iss_parameter_supported: true });
    const lookalikes = [
      `${as.issuer}/`,
      as.issuer.toUpperCase(),
      `${as.issuer}/.`,
      as.issuer.replace('127.0.0.1', 'localhost'),
      as.issuer.replace(':', '%3A'),
      'https://attacker.example',
    ];
    for (const iss of lookalikes) {
      const { state } = await agent.authorizationUrl({ scope: 'files:read' });
      assert.throws(() => agent.handleCallback(callback({ code: 'c', state, iss })), { code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH', reason: 'mismatch', received: iss }, iss);
    }
    const { state } = await agent.authorizationUrl({ scope: 'files:read' });
    // Form-decoding of the query is the one decoding applied (RFC 9207 §2.4).
    const encoded = `${redirectUri}?code=c&state=${state}&iss=${encodeURIComponent(as.issuer)}`;
    assert.equal(agent.handleCallback(encoded).code, 'c');
  });

  test('ISS-02 MCP-C-07 an error response from the wrong issuer → issuer mismatch; its error is neither surfaced nor shown', async () => {
    const agent = client({ authorization_response_iss_parameter_supported: true });
    const { state } = await agent.authorizationUrl({ scope: 'files:read' });
    const err = (() => {
      try {
        agent.handleCallback(callback({ error: 'access_denied', error_description: 'Call +1-555-0100 to restore access', state, iss: 'https://attacker.example' }));
      } catch (e) {
        return e as Error & { code: string };
      }
      return undefined;
    })();
    assert.equal(err?.code, 'ERR_AUTHORIZATION_ISSUER_MISMATCH');
    assert.doesNotMatch(err.message, /555|access_denied/);
  });

  test('ISS-02 MCP-C-07 flag absent or false: iss absent → proceed; iss present → still compared', async () => {
    for (const flag of [undefined, false]) {
      const agent = client({ authorization_response_iss_parameter_supported: flag });
      const first = await agent.authorizationUrl({ scope: 'files:read' });
      assert.equal(agent.handleCallback(callback({ code: 'c', state: first.state })).code, 'c');
      const second = await agent.authorizationUrl({ scope: 'files:read' });
      assert.throws(() => agent.handleCallback(callback({ code: 'c', state: second.state, iss: 'https://attacker.example' })), { code: 'ERR_AUTHORIZATION_ISSUER_MISMATCH' });
    }
  });

  test('an error response with a verified iss → ERR_AUTHORIZATION_DENIED carrying error and error_description', async () => {
    const agent = client();
    const { state } = await agent.authorizationUrl({ scope: 'files:read' });
    assert.throws(() => agent.handleCallback(callback({ error: 'invalid_scope', error_description: 'scope files:read is not allowed', state, iss: as.issuer })), {
      code: 'ERR_AUTHORIZATION_DENIED',
      error: 'invalid_scope',
      errorDescription: 'scope files:read is not allowed',
    });
  });

  test('no code, or a repeated code or iss → ERR_AUTHORIZATION_RESPONSE_INVALID', async () => {
    const agent = client();
    for (const params of [{}, { code: ['a', 'b'] }, { code: 'a', iss: [as.issuer, as.issuer] }, { code: '' }] as Record<string, string | string[]>[]) {
      const { state } = await agent.authorizationUrl({ scope: 'files:read' });
      assert.throws(() => agent.handleCallback(callback({ iss: as.issuer, ...params, state })), { code: 'ERR_AUTHORIZATION_RESPONSE_INVALID' }, JSON.stringify(params));
    }
  });

  test('misuse throws TypeError', async () => {
    const agent = client();
    assert.throws(() => agent.handleCallback('not a url'), TypeError);
    await assert.rejects(agent.authorizationUrl({ scope: 'x', resource: 'https://r.example/mcp#frag' }), TypeError);
    await assert.rejects(agent.authorizationUrl({ scope: 'x', requestedActor: '' }), TypeError);
    const noRedirect = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: 's', app: { clientId: 'app_demo' } });
    await assert.rejects(noRedirect.authorizationUrl({ scope: 'x' }), TypeError);
    assert.throws(() => new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: 's', app: { clientId: '' } }), TypeError);
    assert.throws(() => new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: 's', app: { clientId: 'a', tokenEndpointAuthMethod: 'client_secret_basic' } }), TypeError);
  });
});
