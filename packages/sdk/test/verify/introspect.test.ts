import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { authenticateRequest } from '../../src/challenge/authenticate-request.ts';
import { createVerifier } from '../../src/verify/create-verifier.ts';
import { createIntrospector, introspect } from '../../src/verify/introspect.ts';
import { startTestIssuer } from '../helpers/test-issuer.ts';
import type { TestIssuer } from '../helpers/test-issuer.ts';

/** An authorization server whose introspection endpoint answers `status` to everything (an outage, a proxy error). */
async function startBrokenIssuer(status: number) {
  const server = createServer((req, res) => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/.well-known/oauth-authorization-server') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ issuer: origin, introspection_endpoint: `${origin}/introspect` }));
    }
    res.writeHead(status, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('introspect / createIntrospector (RFC 7662) for resource servers', () => {
  let as: TestIssuer;
  let apiKey: string;
  before(async () => {
    as = await startTestIssuer();
    apiKey = as.addResource(as.resource);
    as.addResourceClient('rs_files', 's3cret:with spaces', as.resource);
  });
  after(() => as.close());

  test('IN-02 an active token → its claims; after revocation → only active: false', async () => {
    const introspection = createIntrospector({ issuer: as.issuer, credentials: { apiKey } });
    const token = as.accessToken({ scope: 'files:read' });
    const answer = await introspection.introspect(token);
    assert.equal(answer.active, true);
    assert.equal(answer.sub, 'usr_alice');
    assert.equal(answer.scope, 'files:read');
    assert.equal(answer.iss, as.issuer);
    as.revoke(token);
    assert.deepEqual(await introspection.introspect(token), { active: false });
  });

  test('client credentials go as HTTP Basic with form-encoded id and secret (RFC 6749 §2.3.1); the one-shot form', async () => {
    const answer = await introspect(as.accessToken(), { issuer: as.issuer, credentials: { clientId: 'rs_files', clientSecret: 's3cret:with spaces' } });
    assert.equal(answer.active, true);
  });

  test('IN-01 a wrong API key: the AS answers 401 → ERR_INTROSPECTION_UNAUTHORIZED (a credential error, not an outage)', async () => {
    await assert.rejects(introspect(as.accessToken(), { issuer: as.issuer, credentials: { apiKey: 'mrk_wrong' } }), {
      code: 'ERR_INTROSPECTION_UNAUTHORIZED',
      status: 401,
      error: 'invalid_client',
    });
  });

  test('a 502 or an unreachable AS → ERR_INTROSPECTION_FAILED', async () => {
    const broken = await startBrokenIssuer(502);
    try {
      await assert.rejects(introspect('t', { issuer: broken.issuer, credentials: { apiKey } }), { code: 'ERR_INTROSPECTION_FAILED' });
    } finally {
      await broken.close();
    }
    const introspection = createIntrospector({ issuer: as.issuer, credentials: { apiKey } });
    await introspection.introspect(as.accessToken()); // metadata cached
    await as.close();
    try {
      await assert.rejects(introspection.introspect(as.accessToken()), { code: 'ERR_INTROSPECTION_FAILED' });
    } finally {
      as = await startTestIssuer();
      apiKey = as.addResource(as.resource);
      as.addResourceClient('rs_files', 's3cret:with spaces', as.resource);
    }
  });

  test('in a middleware, refused introspection credentials → 500 server_error without Retry-After; an outage stays 503', async () => {
    const wrongKey = createVerifier({ issuer: as.issuer, audience: as.resource, introspection: { credentials: { apiKey: 'mrk_wrong' }, cacheTtlSeconds: 0 } });
    const request = new Request('https://rs.example/files', { headers: { authorization: `Bearer ${as.accessToken()}` } });
    const outcome = await authenticateRequest(request, { verifier: wrongKey });
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.rejection.status, 500);
    assert.deepEqual(outcome.rejection.body, { error: 'server_error', error_description: 'the token could not be checked' });
    assert.equal(outcome.rejection.headers['retry-after'], undefined);
    assert.equal(outcome.rejection.cause.code, 'ERR_INTROSPECTION_UNAUTHORIZED');
  });

  test('misuse is a TypeError: bad credentials, no token, a bad issuer', () => {
    assert.throws(() => createIntrospector({ issuer: as.issuer, credentials: { apiKey: '' } }), TypeError);
    assert.throws(() => createIntrospector({ issuer: 'ftp://x', credentials: { apiKey } }), TypeError);
    assert.rejects(createIntrospector({ issuer: as.issuer, credentials: { apiKey } }).introspect(''), TypeError);
  });
});
