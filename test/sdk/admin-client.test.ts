import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AdminRequestFailed, MandateAdminClient } from '../../packages/sdk/src/admin/index.ts';
import { basicAuth, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { isActive } from '../../packages/server/test/helpers/user-flow.ts';

/**
 * Issue 11 item 7: `@mandate/sdk/admin` against the real admin API over HTTP on both stores: a Node program
 * provisions a resource and an agent, rotates the agent's secret, disables and re-enables it, without the CLI; every
 * refusal arrives as AdminRequestFailed with the problem's kind, status and detail.
 */

/** Rejects with AdminRequestFailed of this kind and status. */
async function refused(call: Promise<unknown>, problem: string, status: number): Promise<AdminRequestFailed> {
  let caught: unknown;
  await assert.rejects(call, (err: unknown) => ((caught = err), true));
  assert.ok(caught instanceof AdminRequestFailed, String(caught));
  assert.equal(caught.code, 'ERR_ADMIN_REQUEST_FAILED');
  assert.equal(caught.problem, problem);
  assert.equal(caught.status, status);
  return caught;
}

forEachStore('SDK admin client (MandateAdminClient)', (fixture) => {
  let server: TestServer;
  let admin: MandateAdminClient;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture);
    admin = new MandateAdminClient({ issuer: server.issuer, adminToken: server.adminToken });
  });
  after(() => server.close());

  const clientCredentials = (clientId: string, secret: string, resource: string) =>
    server.postForm('/token', { grant_type: 'client_credentials', resource, scope: 'calc' }, { authorization: basicAuth(clientId, secret) });

  test('register an agent, rotate its secret, disable it (its tokens end), enable it (none revive), delete it', async () => {
    const uri = `https://admin${++n}.example.com/mcp`;
    const { resource, apiKey } = await admin.registerResource({ resource: uri, scopes: ['calc', { name: 'exec', risk: 'high' }], defaultScopes: ['calc'] });
    assert.equal(resource.resource, uri);
    assert.deepEqual(resource.scopes.map((s) => [s.name, s.risk]), [['calc', 'low'], ['exec', 'high']]);
    assert.match(apiKey, /^mrk_/);

    const { agent, clientSecret } = await admin.registerAgent({ name: 'Provisioned', owner: 'owner@example.com', scopes: ['calc'], audiences: [uri], accessTokenTtlSeconds: 300 });
    assert.equal(agent.status, 'active');
    assert.equal(agent.access_token_ttl_seconds, 300);
    assert.equal('client_secret' in agent, false, 'the secret is not part of the view');
    const first = await clientCredentials(agent.client_id, clientSecret!, uri);
    assert.equal(first.status, 200);
    const token = ((await first.json()) as { access_token: string }).access_token;

    const rotated = await admin.rotateAgentSecret(agent.client_id, { graceSeconds: 0 });
    assert.notEqual(rotated.clientSecret, clientSecret);
    assert.equal((await clientCredentials(agent.client_id, clientSecret!, uri)).status, 401, 'grace 0: the old secret ends at once');
    assert.equal((await clientCredentials(agent.client_id, rotated.clientSecret, uri)).status, 200);

    assert.ok((await admin.listAgents()).some((a) => a.client_id === agent.client_id));
    assert.deepEqual((await admin.updateAgent(agent.client_id, { description: 'provisioned by a script' })).description, 'provisioned by a script');

    assert.equal(await isActive(server, apiKey, token), true);
    assert.equal((await admin.disableAgent(agent.client_id)).status, 'disabled');
    assert.equal(await isActive(server, apiKey, token), false, 'disabling revokes');
    assert.equal((await clientCredentials(agent.client_id, rotated.clientSecret, uri)).status, 401);
    assert.equal((await admin.enableAgent(agent.client_id)).status, 'active');
    assert.equal(await isActive(server, apiKey, token), false, 're-enabling revives nothing');
    assert.equal((await admin.getAgent(agent.client_id)).status, 'active');

    await admin.deleteAgent(agent.client_id);
    const gone = await refused(admin.getAgent(agent.client_id), 'not-found', 404);
    assert.match(gone.detail!, new RegExp(agent.client_id));
  });

  test('resources: list, get by id or URI, change the downstream allowance, rotate the key with a grace period, delete', async () => {
    const [a, b] = [`https://res${++n}a.example.com/mcp`, `https://res${n}b.example.com/mcp`];
    const { resource: ra } = await admin.registerResource({ resource: a, scopes: ['calc'] });
    await admin.registerResource({ resource: b, scopes: ['calc'] });
    assert.ok((await admin.listResources()).some((r) => r.resource === a));
    assert.equal((await admin.getResource(a)).id, ra.id, 'found by its URI');
    assert.deepEqual((await admin.updateResource(ra.id, { downstreamResources: [b] })).downstream_resources, [b]);

    const rotated = await admin.rotateResourceKey(ra.id, { graceSeconds: 60 });
    assert.match(rotated.apiKey, /^mrk_/);
    assert.equal(rotated.previousKeyValidUntil, server.clock.now() + 60);

    await admin.deleteResource(ra.id);
    await refused(admin.getResource(ra.id), 'not-found', 404);
  });

  test('refusals carry the problem: invalid input with field errors, a conflict, a wrong admin token, an unreachable server', async () => {
    const invalid = await refused(admin.registerAgent({ name: '', scopes: ['not a scope'] }), 'invalid-request', 400);
    assert.ok(invalid.errors && invalid.errors.length > 0, 'field errors');
    const uri = `https://dup${++n}.example.com/mcp`;
    await admin.registerResource({ resource: uri });
    await refused(admin.registerResource({ resource: uri }), 'conflict', 409);
    await refused(admin.registerAgent({ name: 'x', audiences: ['https://unregistered.example.com/mcp'] }), 'invalid-request', 400);

    const stranger = new MandateAdminClient({ issuer: server.issuer, adminToken: 'mad_nobody.secret' });
    await refused(stranger.listAgents(), 'unauthorized', 401);

    const offline = new MandateAdminClient({ issuer: 'http://127.0.0.1:9', adminToken: server.adminToken, httpTimeoutMs: 2000 });
    await assert.rejects(offline.listAgents(), { code: 'ERR_ADMIN_REQUEST_FAILED', status: 0 });
    assert.throws(() => new MandateAdminClient({ issuer: server.issuer, adminToken: '' }), TypeError);
  });
});
