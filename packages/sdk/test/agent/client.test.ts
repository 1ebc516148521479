import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { JWK } from 'jose';
import { AgentAuthClient } from '../../src/agent/client.ts';
import { createVerifier } from '../../src/verify/create-verifier.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

describe('AgentAuthClient (client_credentials, RFC 6749 §4.4)', () => {
  let as: TestIssuer;
  const secret = 's3cr:et with spaces';
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  before(async () => {
    as = await startTestIssuer();
    as.addClient({ clientId: 'agt_alpha', secret });
    as.addClient({ clientId: 'agt_keyed', publicJwk: { ...keyPair.publicKey.export({ format: 'jwk' }), kid: 'k1' } as JWK });
  });
  after(() => as.close());

  test('client_secret_basic: a token for the resource, discovered endpoint, verifiable by the resource', async () => {
    const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: secret });
    const token = await agent.getAgentToken({ scope: 'files:read', resource: as.resource });
    assert.equal(token.tokenType, 'Bearer');
    assert.deepEqual(token.scope, ['files:read']);
    const form = as.tokenRequests.at(-1);
    assert.equal(form?.get('grant_type'), 'client_credentials');
    assert.deepEqual(form?.getAll('resource'), [as.resource]);
    assert.equal(form?.get('client_secret'), null);
    const auth = await createVerifier({ issuer: as.issuer, audience: as.resource }).verify(token.accessToken, { requiredScopes: ['files:read'] });
    assert.equal(auth.subject, 'agt_alpha');
    assert.equal(auth.agentId, 'agt_alpha');
  });

  test('tokens are cached per (scope, resource); scope order does not matter', async () => {
    const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: secret });
    const first = await agent.getAgentToken({ scope: 'files:read files:write', resource: as.resource });
    const count = as.counts.token;
    const again = await agent.getAgentToken({ scope: ['files:write', 'files:read'], resource: [as.resource] });
    assert.equal(again.accessToken, first.accessToken);
    assert.equal(as.counts.token, count);
    const other = await agent.getAgentToken({ scope: 'files:read', resource: as.resource });
    assert.notEqual(other.accessToken, first.accessToken);
    assert.equal(as.counts.token, count + 1);
  });

  test('single-flight: concurrent callers, and callers arriving while the request is in flight, share one token request', async () => {
    const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: secret });
    await agent.metadata();
    const count = as.counts.token;
    const held = as.holdTokenResponses();
    const first = Array.from({ length: 5 }, () => agent.getAgentToken({ scope: 'files:read' }));
    await held.arrived; // the request is at the AS, unanswered
    const later = Array.from({ length: 5 }, () => agent.getAgentToken({ scope: 'files:read' }));
    held.release();
    const tokens = await Promise.all([...first, ...later]);
    assert.equal(as.counts.token, count + 1);
    assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 1);
  });

  test('a token is renewed before it expires', async () => {
    let now = Date.now();
    as.setTokenTtl(120);
    try {
      const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: secret, clock: () => now, renewBeforeExpirySeconds: 30 });
      const first = await agent.getAgentToken({ scope: 'files:read' });
      const count = as.counts.token;
      now += 89_000;
      assert.equal((await agent.getAgentToken({ scope: 'files:read' })).accessToken, first.accessToken);
      now += 2_000; // 91 s into a 120 s token: inside the 30 s renewal window
      const renewed = await agent.getAgentToken({ scope: 'files:read' });
      assert.equal(as.counts.token, count + 1);
      assert.notEqual(renewed.accessToken, first.accessToken);
    } finally {
      as.setTokenTtl(300);
    }
  });

  test('several resources (RFC 8707) give one token whose aud names them all', async () => {
    const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: secret });
    const resources = ['https://a.example.test/mcp', 'https://b.example.test/api'];
    const token = await agent.getAgentToken({ scope: 'files:read', resource: resources });
    assert.deepEqual(as.tokenRequests.at(-1)?.getAll('resource'), resources);
    const auth = await createVerifier({ issuer: as.issuer, audience: resources[1] as string }).verify(token.accessToken);
    assert.deepEqual(auth.audience, resources);
  });

  test('client_secret_post sends the credentials in the form', async () => {
    const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: secret, tokenEndpointAuthMethod: 'client_secret_post' });
    await agent.getAgentToken({ scope: 'notes:read' });
    assert.equal(as.tokenRequests.at(-1)?.get('client_secret'), secret);
  });

  test('private_key_jwt (RFC 7523): an assertion the AS verifies; a wrong key → ERR_TOKEN_REQUEST_FAILED invalid_client', async () => {
    for (const assertionAudience of ['issuer', 'token_endpoint'] as const) {
      const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_keyed', privateKey: keyPair.privateKey, privateKeyKid: 'k1', assertionAudience });
      const token = await agent.getAgentToken({ scope: 'files:read' });
      assert.ok(token.accessToken.length > 0);
      assert.equal(as.tokenRequests.at(-1)?.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    }
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as JWK;
    const impostor = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_keyed', privateKey: jwk });
    await assert.rejects(impostor.getAgentToken({ scope: 'files:read' }), { code: 'ERR_TOKEN_REQUEST_FAILED', status: 401, error: 'invalid_client' });
  });

  test('a wrong secret → ERR_TOKEN_REQUEST_FAILED; the failure is not cached', async () => {
    const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: 'wrong' });
    await assert.rejects(agent.getAgentToken(), { code: 'ERR_TOKEN_REQUEST_FAILED', error: 'invalid_client' });
    const count = as.counts.token;
    await assert.rejects(agent.getAgentToken(), { code: 'ERR_TOKEN_REQUEST_FAILED' });
    assert.equal(as.counts.token, count + 1);
  });

  test('misuse throws TypeError', () => {
    assert.throws(() => new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha' }), TypeError);
    assert.throws(() => new AgentAuthClient({ issuer: 'http://as.example', clientId: 'a', clientSecret: 'b' }), TypeError);
    assert.throws(() => new AgentAuthClient({ issuer: as.issuer, clientId: '', clientSecret: 'b' }), TypeError);
    assert.throws(() => new AgentAuthClient({ issuer: as.issuer, clientId: 'a', privateKey: keyPair.publicKey }), TypeError);
    const agent = new AgentAuthClient({ issuer: as.issuer, clientId: 'agt_alpha', clientSecret: secret });
    assert.throws(() => agent.getAgentToken({ resource: 'https://r.example/mcp#frag' }), TypeError);
    assert.throws(() => agent.getAgentToken({ resource: 'not a uri' }), TypeError);
  });
});
