import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser, obtainCode, pkce, redeemCode, redirectParams, type CodeFlowOptions } from '../helpers/user-flow.ts';

const DOCS = 'https://docs.example.com/api';

interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  error?: string;
  error_description?: string;
}

/**
 * Scopes and resources as MCP clients send them (issue 9 items 3, 4, 5, 7), over real HTTP with the real login and
 * consent pages: the permitted subset, what a request without `resource` or `scope` gets, step-up that keeps what
 * was granted, refresh tokens through `offline_access`, and userinfo with a token bound to a resource.
 */
forEachStore('MCP scopes and resources (issue 9)', (fixture) => {
  let server: TestServer;
  let userId: string;

  before(async () => {
    server = await startTestServer(fixture);
    await registerAgentAndResource(server);
    const docs = await server.admin('POST', '/resources', { resource: DOCS, scopes: ['docs:read', 'files:read'], default_scopes: ['docs:read'] });
    assert.equal(docs.status, 201, await docs.clone().text());
    userId = await createUser(server, 'ada@example.com');
  });
  after(() => server.close());

  /** A public MCP host registered by the operator, allowed `scopes`; `body` adds audiences, defaults, grant types. */
  const host = (scopes: string[], body: Record<string, unknown> = {}) => createApp(server, { public: true, scopes, ...body });

  async function tokens(options: CodeFlowOptions): Promise<Tokens> {
    const { code, verifier } = await obtainCode(server, options);
    return (await (await redeemCode(server, options, code, verifier)).json()) as Tokens;
  }

  /**
   * The authorization request as a browser sends it (`scope`/`resource` left out when undefined); the user denies
   * on the consent page, so that only the page is seen and no grant is made.
   */
  function authorize(clientId: string, scope: string | undefined, resource?: string) {
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'https://app.example.com/callback',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
      state: 'st',
    };
    if (scope !== undefined) params['scope'] = scope;
    if (resource !== undefined) params['resource'] = resource;
    return authorizeInBrowser(server, new Browser(), params, { decision: 'deny' });
  }

  const listed = (page: string, heading: RegExp) => {
    const section = page.split(heading)[1]?.split('</ul>')[0] ?? '';
    return [...section.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]);
  };

  test('MCP-C-03 RFC 6749 §3.3 the permitted subset of the requested scopes is granted, and the response says which', async () => {
    const app = await host(['calc', 'files:read'], { audiences: [MCP_RESOURCE] });
    const { consentPage } = await authorize(app.clientId, 'calc files:write made-up', MCP_RESOURCE);
    assert.deepEqual(listed(consentPage!, /will be allowed to:/), ['calc'], 'the page asks only for what may be granted');

    const body = await tokens({ clientId: app.clientId, scope: 'calc files:write made-up', resource: MCP_RESOURCE });
    assert.equal(body.scope, 'calc');
    assert.equal(decodeJwt(body.access_token).payload['scope'], 'calc');

    const nothing = await authorize(app.clientId, 'files:write made-up', MCP_RESOURCE);
    const refused = redirectParams(nothing.response);
    assert.equal(refused.get('error'), 'invalid_scope');
    assert.equal(refused.get('error_description'), 'scope files:write is not allowed for this client');
  });

  test('MCP-C-04 RI-01 no resource: the client’s single audience, else the one resource defining every scope, else invalid_target naming the choices', async () => {
    const single = await host(['calc'], { audiences: [MCP_RESOURCE] });
    const forSingle = await tokens({ clientId: single.clientId, scope: 'calc' });
    assert.equal(decodeJwt(forSingle.access_token).payload['aud'], MCP_RESOURCE);

    const open = await host(['calc', 'files:read', 'docs:read']);
    const defining = await tokens({ clientId: open.clientId, scope: 'docs:read' });
    assert.equal(decodeJwt(defining.access_token).payload['aud'], DOCS);

    const ambiguous = redirectParams((await authorize(open.clientId, 'files:read')).response);
    assert.equal(ambiguous.get('error'), 'invalid_target');
    assert.equal(ambiguous.get('error_description'), `resource is required: name one of ${DOCS} ${MCP_RESOURCE}`);
  });

  test('MCP-C-03 no scope: the client’s default scopes, else the resource’s, else everything the client may hold there', async () => {
    const withDefaults = await host(['calc', 'files:read'], { audiences: [MCP_RESOURCE], default_scopes: ['openid', 'files:read'] });
    const own = await authorize(withDefaults.clientId, undefined);
    assert.deepEqual(listed(own.consentPage!, /will be allowed to:/), ['openid', 'files:read']);

    const docsOnly = await host(['docs:read', 'files:read'], { audiences: [DOCS] });
    const fromResource = await tokens({ clientId: docsOnly.clientId, scope: '' });
    assert.equal(fromResource.scope, 'docs:read');

    // The MCP conformance suite's `authorization` mode without --resource: no scope, no resource.
    const plain = await host(['calc', 'files:read'], { audiences: [MCP_RESOURCE] });
    const everything = await authorize(plain.clientId, undefined);
    assert.deepEqual(listed(everything.consentPage!, /will be allowed to:/), ['calc', 'files:read']);
  });

  test('default scopes must be the client’s or the resource’s own scopes (admin API)', async () => {
    const client = await server.admin('POST', '/clients', { name: 'x', redirect_uris: ['https://app.example.com/callback'], scopes: ['calc'], default_scopes: ['files:read'] });
    assert.equal(client.status, 400);
    assert.match(await client.text(), /default_scopes: files:read not among the client's scopes/);
    const resource = await server.admin('POST', '/resources', { resource: 'https://other.example.com/api', scopes: ['a'], default_scopes: ['b'] });
    assert.equal(resource.status, 400);
    const created = await host(['calc', 'files:read'], { default_scopes: ['calc'] });
    const narrowed = await server.admin('PATCH', `/clients/${created.clientId}`, { scopes: ['files:read'] });
    assert.deepEqual(((await narrowed.json()) as { default_scopes: string[] }).default_scopes, [], 'a scope the client loses leaves its defaults');
  });

  test('MCP-C-03 step-up keeps what was granted: the new token holds the union, the page asks only for the new scope', async () => {
    const app = await host(['calc', 'files:read', 'files:write'], { audiences: [MCP_RESOURCE] });
    const first = await tokens({ clientId: app.clientId, scope: 'calc offline_access', resource: MCP_RESOURCE });
    assert.equal(first.scope, 'offline_access calc');

    const { consentPage } = await authorize(app.clientId, 'files:write offline_access', MCP_RESOURCE);
    assert.deepEqual(listed(consentPage!, /also be allowed to:/), ['files:write'], 'offline_access asked again is not new');
    assert.deepEqual(listed(consentPage!, /Already allowed \(kept\):/), ['offline_access', 'calc']);

    const stepped = await tokens({ clientId: app.clientId, scope: 'files:write offline_access', resource: MCP_RESOURCE });
    assert.deepEqual(stepped.scope!.split(' ').sort(), ['calc', 'files:write', 'offline_access']);
    assert.ok(stepped.refresh_token);
    // offline_access is kept only when asked for again: it asks for a refresh token with this authorization.
    const withoutOffline = await tokens({ clientId: app.clientId, scope: 'files:read', resource: MCP_RESOURCE });
    assert.deepEqual(withoutOffline.scope!.split(' ').sort(), ['calc', 'files:read', 'files:write']);
    assert.equal(withoutOffline.refresh_token, undefined);
    assert.equal(decodeJwt(stepped.access_token).payload['aud'], MCP_RESOURCE);

    // Another client of the same user starts from nothing.
    const other = await host(['calc', 'files:write'], { audiences: [MCP_RESOURCE] });
    assert.equal((await tokens({ clientId: other.clientId, scope: 'files:write', resource: MCP_RESOURCE })).scope, 'files:write');

    // Grants that ended are not kept: disabling the client revokes them, and enabling it again revives none.
    assert.equal((await server.admin('POST', `/clients/${app.clientId}/disable`)).status, 200);
    assert.equal((await server.admin('POST', `/clients/${app.clientId}/enable`)).status, 200);
    server.clock.advance(2);
    assert.equal((await tokens({ clientId: app.clientId, scope: 'calc', resource: MCP_RESOURCE })).scope, 'calc');
  });

  test('MCP-C-09 MCP-AS-03 BCP-04 offline_access: listed in metadata, a refresh token for clients allowed the grant, rotated, reuse revokes the family', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as { scopes_supported: string[] };
    assert.ok(metadata.scopes_supported.includes('offline_access'));

    const app = await host(['calc'], { audiences: [MCP_RESOURCE] });
    const first = await tokens({ clientId: app.clientId, scope: 'calc offline_access' });
    assert.match(first.refresh_token!, /^mrt_/);
    const refresh = (token: string) => server.postForm('/token', { grant_type: 'refresh_token', refresh_token: token, client_id: app.clientId });
    const second = (await (await refresh(first.refresh_token!)).json()) as Tokens;
    assert.equal(second.scope, 'offline_access calc');
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.equal(((await (await refresh(first.refresh_token!)).json()) as Tokens).error, 'invalid_grant', 'reuse of a rotated token');
    assert.equal(((await (await refresh(second.refresh_token!)).json()) as Tokens).error, 'invalid_grant', 'the family is revoked');

    const noRefresh = await host(['calc'], { audiences: [MCP_RESOURCE], grant_types: ['authorization_code'] });
    const without = await tokens({ clientId: noRefresh.clientId, scope: 'calc offline_access' });
    assert.equal(without.scope, 'calc', 'offline_access is left out for a client that may not refresh');
    assert.equal(without.refresh_token, undefined);
  });

  test('OIDC Core §5.3 a token granted openid is accepted at userinfo even when bound to a resource; an ID token never is', async () => {
    const app = await host(['calc'], { audiences: [MCP_RESOURCE] });
    const body = await tokens({ clientId: app.clientId, scope: 'openid email calc' });
    const claims = decodeJwt(body.access_token).payload;
    assert.deepEqual(claims['aud'], [MCP_RESOURCE, `${server.issuer}/userinfo`]);

    const userinfo = (token: string) => fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` } });
    const ok = await userinfo(body.access_token);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { sub: userId, email: 'ada@example.com', email_verified: true });

    const idToken = await userinfo(body.id_token!);
    assert.equal(idToken.status, 401);
    assert.match(idToken.headers.get('www-authenticate')!, /error="invalid_token"/);

    // openid alone, no resource: a token for userinfo only.
    const identity = await host([], {});
    const only = await tokens({ clientId: identity.clientId, scope: 'openid email' });
    assert.equal(decodeJwt(only.access_token).payload['aud'], `${server.issuer}/userinfo`);
    assert.equal((await userinfo(only.access_token)).status, 200);
  });
});
