import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser, inputValue, pkce, signedInBrowser } from '../helpers/user-flow.ts';

/**
 * Consent phishing with look-alike names (issue 14 leftover 4), over real HTTP on both stores: a client that
 * registers itself (RFC 7591) under a name that looks like an application the operator created or a resource ("Сlaude
 * Desktop" with a Cyrillic С) is registered, audited as a look-alike, and its consent page warns that it may be an
 * imitation, naming what it looks like; with `registration.lookAlikeNames: refuse` it is refused. Other
 * self-registered clients are never what a name imitates (every MCP host installation registers under one name).
 */

const LOOPBACK = 'http://127.0.0.1/callback';

function register(server: TestServer, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${server.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

const host = (name: string) => ({ client_name: name, redirect_uris: [LOOPBACK], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] });

async function setUp(server: TestServer): Promise<void> {
  await registerAgentAndResource(server);
  await createApp(server, { name: 'Claude Desktop' });
  assert.equal((await server.admin('POST', '/resources', { resource: 'https://files.example.com/mcp', name: 'Acme Files', scopes: ['files:read'] })).status, 201);
  await createUser(server, 'ada@example.com');
}

forEachStore('look-alike client names', (fixture) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(fixture, { registration: { perIpPerMinute: 0 } });
    await setUp(server);
  });
  after(() => server.close());

  /** The consent page a self-registered client's authorization request shows. */
  async function consentFor(name: string): Promise<{ page: string; clientId: string }> {
    const response = await register(server, host(name));
    assert.equal(response.status, 201, await response.clone().text());
    const { client_id: clientId } = (await response.json()) as { client_id: string };
    const { challenge } = pkce();
    const { consentPage } = await authorizeInBrowser(
      server,
      new Browser(),
      { response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1:50000/callback', code_challenge: challenge, code_challenge_method: 'S256', state: 's', scope: 'calc', resource: MCP_RESOURCE },
      { decision: 'deny' },
    );
    assert.ok(consentPage, 'the consent page was shown');
    return { page: consentPage, clientId };
  }

  test('LOOK-ALIKE a self-registered "Сlaude Desktop" (Cyrillic С): registered, audited as a look-alike; its consent page names the application it looks like and the mixed alphabets', async () => {
    const { page, clientId } = await consentFor('\u0421laude Desktop');
    assert.match(page, /registered itself/);
    assert.match(page, /id="look-alike"/);
    assert.match(page, /Warning: this may be an imitation\./);
    assert.match(page, /looks like <strong>Claude Desktop<\/strong>, an application registered on this server, but it is another application/);
    assert.match(page, /mixes letters of different alphabets \(Cyrillic, Latin\)/);
    const [row] = await fixture.store.listAuditRows({ event: 'client.registered', clientId, limit: 1 });
    assert.deepEqual(row?.detail['look_alike'], { imitates: 'Claude Desktop', kind: 'client', scripts: ['Cyrillic', 'Latin'] });
  });

  test('LOOK-ALIKE the same name in one script ("CIaude desktop", "ACME FILES"): the warning names the application or the resource, no alphabets', async () => {
    const app = await consentFor('CIaude desktop');
    assert.match(app.page, /looks like <strong>Claude Desktop<\/strong>, an application registered on this server/);
    assert.doesNotMatch(app.page, /alphabets/);
    const resource = await consentFor('ACME FILES');
    assert.match(resource.page, /looks like <strong>Acme Files<\/strong>, a service registered on this server/);
  });

  test('LOOK-ALIKE a name of its own gets the generic warning only; another self-registered client of the same name is not imitated', async () => {
    const first = await consentFor('Weather Helper');
    assert.match(first.page, /registered itself/);
    assert.doesNotMatch(first.page, /look-alike|imitation/);
    const second = await consentFor('Weather Helper');
    assert.doesNotMatch(second.page, /look-alike|imitation/, 'two installations of one host are not imitations of each other');
    const [row] = await fixture.store.listAuditRows({ event: 'client.registered', clientId: second.clientId, limit: 1 });
    assert.equal(row?.detail['look_alike'], undefined);
  });
});

forEachStore('look-alike client names on the device page', (fixture) => {
  let server: TestServer;
  before(async () => {
    // The operator lets self-registered clients use the device grant (off by default, RFC 8628 §5.4).
    server = await startTestServer(fixture, { registration: { perIpPerMinute: 0, allowDeviceGrant: true } });
    await setUp(server);
  });
  after(() => server.close());

  test('LOOK-ALIKE the device confirmation page of a self-registered "CIaude Desktop" names the application it looks like', async () => {
    const response = await register(server, { ...host('CIaude Desktop'), grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] });
    assert.equal(response.status, 201, await response.clone().text());
    const { client_id: clientId } = (await response.json()) as { client_id: string };
    const started = await server.postForm('/device_authorization', { client_id: clientId, scope: 'calc', resource: MCP_RESOURCE });
    assert.equal(started.status, 200, await started.clone().text());
    const { user_code: userCode } = (await started.json()) as { user_code: string };
    const browser = await signedInBrowser(server, 'ada@example.com');
    const entry = await (await browser.fetch(`${server.issuer}/device`)).text();
    const confirm = await browser.postForm(`${server.issuer}/device`, { csrf: inputValue(entry, 'csrf'), user_code: userCode });
    assert.equal(confirm.status, 200);
    const page = await confirm.text();
    assert.match(page, /registered itself/);
    assert.match(page, /looks like <strong>Claude Desktop<\/strong>, an application registered on this server/);
    assert.doesNotMatch(page, /alphabets/);
  });
});

forEachStore('look-alike client names refused (registration.lookAlikeNames: refuse)', (fixture) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(fixture, { registration: { perIpPerMinute: 0, lookAlikeNames: 'refuse' } });
    await setUp(server);
  });
  after(() => server.close());

  test('LOOK-ALIKE refused: a registration imitating an application or a resource, or mixing alphabets → 400 invalid_client_metadata; an RFC 7592 update to such a name too', async () => {
    for (const [name, why] of [
      ['\u0421laude Desktop', /client_name looks like "Claude Desktop", the name of a client registered on this server/],
      ['acme-files', /client_name looks like "Acme Files", the name of a resource registered on this server/],
      ['W\u0435ather Helper', /client_name mixes letters of different alphabets \(Latin, Cyrillic\)/],
    ] as const) {
      const refused = await register(server, host(name));
      assert.equal(refused.status, 400, name);
      const body = (await refused.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_client_metadata');
      assert.match(body.error_description, why);
    }
    const accepted = await register(server, host('Weather Helper'));
    assert.equal(accepted.status, 201);
    const client = (await accepted.json()) as { client_id: string; registration_access_token: string };
    const update = await fetch(`${server.issuer}/register/${client.client_id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${client.registration_access_token}` },
      body: JSON.stringify({ ...host('Claude  Desktop'), client_id: client.client_id }),
    });
    assert.equal(update.status, 400);
    assert.equal(((await update.json()) as { error: string }).error, 'invalid_client_metadata');
  });
});
