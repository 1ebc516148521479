import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';

forEachStore('precise errors on the OAuth endpoints', (fixture) => {
  let server: TestServer;
  let auth: { authorization: string };
  before(async () => {
    server = await startTestServer(fixture);
    const agent = await registerAgentAndResource(server);
    auth = { authorization: basicAuth(agent.clientId, agent.clientSecret) };
  });
  after(() => server.close());

  const post = (path: string, body: string, headers: Record<string, string>) => fetch(`${server.issuer}${path}`, { method: 'POST', headers, body });

  for (const path of ['/token', '/introspect', '/revoke']) {
    test(`${path}: wrong content type → 400 invalid_request naming the expected type`, async () => {
      for (const contentType of ['application/json', 'text/plain', 'multipart/form-data; boundary=x']) {
        const response = await post(path, '{"grant_type":"client_credentials"}', { ...auth, 'content-type': contentType });
        assert.equal(response.status, 400, contentType);
        assert.equal(response.headers.get('cache-control'), 'no-store');
        assert.deepEqual(await response.json(), {
          error: 'invalid_request',
          error_description: 'the request body must be application/x-www-form-urlencoded',
        });
      }
    });

    test(`${path}: a body over 64 KiB → 413 in RFC 6749 JSON, before authentication`, async () => {
      const response = await post(path, `token=${'a'.repeat(70_000)}`, { 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(response.status, 413);
      assert.deepEqual(await response.json(), { error: 'invalid_request', error_description: 'the request body exceeds 65536 bytes' });
    });

    test(`${path}: a repeated parameter → 400 invalid_request naming it`, async () => {
      const body = path === '/token' ? 'grant_type=client_credentials&grant_type=client_credentials' : 'token=a&token=b';
      const response = await post(path, body, { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(response.status, 400);
      const { error, error_description } = (await response.json()) as { error: string; error_description: string };
      assert.equal(error, 'invalid_request');
      assert.match(error_description, /must not be repeated/);
    });
  }

  test('two Authorization headers → 400, never a token for the first one', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${server.issuer}/token`);
      const req = request(url, {
        method: 'POST',
        headers: [['content-type', 'application/x-www-form-urlencoded'], ['authorization', auth.authorization], ['Authorization', auth.authorization]].flat(),
      }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end('grant_type=client_credentials');
    });
    // Node's HTTP parser already refuses a repeated Authorization header (400, empty body); if it ever lets one
    // through, authorizationHeader() answers invalid_request. Either way no token is issued.
    assert.equal(status, 400);
    if (body) assert.deepEqual(JSON.parse(body), { error: 'invalid_request', error_description: 'only one Authorization header is allowed' });
  });

  test('malformed percent-encoding and NUL bytes are answered as client errors, not 500', async () => {
    for (const body of ['grant_type=%zz', 'grant_type=client_credentials&scope=%00', '%', '=&=&=']) {
      const response = await post('/token', body, { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
      assert.ok(response.status >= 400 && response.status < 500, `${body} → ${response.status}`);
      assert.equal(typeof ((await response.json()) as { error: unknown }).error, 'string');
    }
  });

  for (const path of ['/token', '/introspect', '/revoke']) {
    test(`${path}: a NUL in client_id, token or Basic credentials → 400 invalid_request or 401, never a 500 (PostgreSQL text holds no NUL)`, async () => {
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const inBody = await post(path, 'grant_type=client_credentials&token=x&client_id=%00', form);
      assert.equal(inBody.status, 400);
      assert.deepEqual(await inBody.json(), { error: 'invalid_request', error_description: 'the request contains a NUL character in form parameter client_id' });
      // Refused whether or not the endpoint reads the parameter: no parameter's syntax admits a NUL (SR-11).
      const inToken = await post(path, 'grant_type=client_credentials&token=a%00b', { ...auth, ...form });
      assert.equal(inToken.status, 400);
      assert.deepEqual(await inToken.json(), { error: 'invalid_request', error_description: 'the request contains a NUL character in form parameter token' });
      const inBasic = await post(path, 'grant_type=client_credentials&token=x', { ...form, authorization: `Basic ${Buffer.from('agt%00x:secret').toString('base64')}` });
      assert.equal(inBasic.status, 401);
      assert.equal(((await inBasic.json()) as { error: string }).error, 'invalid_client');
    });
  }
});
