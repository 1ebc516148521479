import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { send } from './fuzz-harness.ts';

/** Regression tests for what fuzzing found (docs/security.md, Fuzzing). */
forEachStore('fuzzing findings', (fixture) => {
  let server: TestServer;
  before(async () => void (server = await startTestServer(fixture)));
  after(() => server.close());

  test('SR-FUZZ-01 a path parameter that is not UTF-8 (%ED%A0%80, a lone surrogate) is a 400 problem+json, not Fastify\'s own error body', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/%ED%A0%80', '/admin/v1/agents/%ED%A0%80', '/admin/v1/clients/%C0%80/disable']) {
      const response = await send(server.issuer, { method: 'GET', path, headers: { authorization: `Bearer ${server.adminToken}` } });
      assert.equal(response.status, 400, path);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/, path);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      assert.equal(body['type'], 'urn:mandate:problem:invalid-request', `${path}: ${response.body}`);
      assert.equal(body['code'], undefined, 'no Fastify error code leaks');
    }
  });
});
