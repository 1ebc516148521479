import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { listenUpstreamIdp, type UpstreamIdp, upstreamLogin as loginAt, type UpstreamLoginOptions } from '../helpers/upstream-idp.ts';
import { Browser, createUser, inputValue } from '../helpers/user-flow.ts';

/**
 * Login through a real upstream OpenID provider: panva's oidc-provider, started in the test with its development
 * login and consent pages, as the IdP that Mandate (the relying party) sends the browser to.
 */
forEachStore('login through an upstream OpenID provider', (fixture) => {
  let idp: UpstreamIdp;
  let idpIssuer: string;
  let server: TestServer;

  before(async () => {
    idp = await listenUpstreamIdp();
    idpIssuer = idp.issuer;
    const upstream = { issuer: idpIssuer, clientId: 'mandate', clientSecret: 'upstream-secret', scopes: ['openid', 'email', 'profile'] };
    server = await startTestServer(fixture, {
      upstreamProviders: [
        { id: 'idp', name: 'Example IdP', ...upstream, linkByVerifiedEmail: false, provision: true },
        { id: 'idp-link', name: 'Example IdP (trusted email)', ...upstream, linkByVerifiedEmail: true, provision: false },
      ],
    });
    idp.serve([`${server.issuer}/login/upstream/idp/callback`, `${server.issuer}/login/upstream/idp-link/callback`], (id) => ({
      email: `${id}@example.com`,
      email_verified: true,
      name: `Upstream ${id}`,
    }));
  });
  after(async () => {
    await server.close();
    await idp.close();
  });

  const upstreamLogin = (browser: Browser, providerId: string, login: string, options?: UpstreamLoginOptions) => loginAt(server, idpIssuer, browser, providerId, login, options);

  test('first login provisions an account from the verified email; the next one finds it by (issuer, sub)', async () => {
    const browser = new Browser();
    const response = await upstreamLogin(browser, 'idp', 'alice');
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/account');
    const account = await (await browser.fetch(`${server.issuer}/account`)).text();
    assert.match(account, /alice@example\.com/);
    assert.match(account, /Linked sign-in providers/);
    const users = (await (await server.admin('GET', '/users')).json()) as { users: { id: string; email: string }[] };
    const alice = users.users.filter((u) => u.email === 'alice@example.com');
    assert.equal(alice.length, 1);

    await upstreamLogin(new Browser(), 'idp', 'alice');
    const again = (await (await server.admin('GET', '/users')).json()) as { users: { email: string }[] };
    assert.equal(again.users.filter((u) => u.email === 'alice@example.com').length, 1, 'no second account');
    const events = (await (await server.admin('GET', '/audit?event=user.provisioned')).json()) as { events: unknown[] };
    assert.equal(events.events.length, 1);
  });

  test('an existing local account with the same email is not taken over unless the provider is trusted to link', async () => {
    const bobId = await createUser(server, 'bob@example.com');
    const refused = await upstreamLogin(new Browser(), 'idp', 'bob');
    assert.equal(refused.status, 302);
    assert.match(refused.headers.get('location')!, /^\/login\?error=upstream/);
    const failures = (await (await server.admin('GET', '/audit?event=login.failed')).json()) as { events: { detail: { reason: string } }[] };
    assert.ok(failures.events.some((e) => /account with this email exists/.test(e.detail.reason)));

    const browser = new Browser();
    const linked = await upstreamLogin(browser, 'idp-link', 'bob');
    assert.equal(linked.headers.get('location'), '/account');
    const identities = await server.store.listIdentities(bobId);
    assert.equal(identities.length, 1);
    assert.equal(identities[0]!.issuer, idpIssuer);
  });

  test('an account whose address was never verified here (self-signup) is not linked to the provider’s identity for that address', async () => {
    // Someone signed up as dora@example.com with a password; the real Dora then signs in through the provider.
    const squatter = await createUser(server, 'dora@example.com', { email_verified: false });
    const refused = await upstreamLogin(new Browser(), 'idp-link', 'dora');
    assert.equal(refused.status, 302);
    assert.match(refused.headers.get('location')!, /^\/login\?error=upstream/);
    assert.equal((await server.store.listIdentities(squatter)).length, 0, 'no identity linked to the unverified account');
    const failures = (await (await server.admin('GET', '/audit?event=login.failed')).json()) as { events: { detail: { reason: string } }[] };
    assert.ok(failures.events.some((e) => /its address was never verified here/.test(e.detail.reason)));
  });

  test('a callback with an unknown state, or from another browser session, is refused', async () => {
    const browser = new Browser();
    await browser.fetch(`${server.issuer}/login`);
    const forged = await browser.fetch(`${server.issuer}/login/upstream/idp/callback?code=x&state=forged&iss=${encodeURIComponent(idpIssuer)}`);
    assert.equal(forged.status, 302);
    assert.match(forged.headers.get('location')!, /error=upstream/);

    // Start a login in one browser; deliver its callback to another (login CSRF / session swap).
    const victim = new Browser();
    const page = await (await victim.fetch(`${server.issuer}/login`)).text();
    const start = await victim.postForm(`${server.issuer}/login/upstream/idp`, { csrf: inputValue(page, 'csrf'), return_to: '/account' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const attacker = new Browser();
    await attacker.fetch(`${server.issuer}/login`);
    const swapped = await attacker.fetch(`${server.issuer}/login/upstream/idp/callback?code=x&state=${state}`);
    assert.match(swapped.headers.get('location')!, /error=upstream/);
  });

  test('SR-22 a callback carrying someone else’s state, code and all, leaves that login intact', async () => {
    const attacker = new Browser();
    await attacker.fetch(`${server.issuer}/login`);
    const stolen: Response[] = [];
    const victim = new Browser();
    const response = await upstreamLogin(victim, 'idp', 'carol', {
      atCallback: async (url) => {
        // Whoever learns the callback URL (a log, a Referer, a shoulder) sends it first, from their own browser.
        stolen.push(await attacker.fetch(url), await new Browser().fetch(url));
      },
    });
    for (const refused of stolen) assert.match(refused.headers.get('location')!, /error=upstream/);
    assert.equal(attacker.cookies.has('mandate_session'), false, 'the attacker is not signed in');
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/account', 'the victim’s login still completes');
    assert.equal((await victim.fetch(`${server.issuer}/account`)).status, 200);
  });

  test('SR-19 an upstream login whose return_to has characters above Latin-1 or a NUL completes, to a safe place', async () => {
    for (const [returnTo, expected] of [
      ['/authorize?x=\u0101\u4e2d', '/authorize?x=%C4%81%E4%B8%AD'],
      ['/account\u0000/x', '/account'],
    ] as const) {
      const browser = new Browser();
      const response = await upstreamLogin(browser, 'idp', 'dave', { returnTo });
      assert.equal(response.status, 302, returnTo);
      assert.equal(response.headers.get('location'), expected);
      assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 200, 'signed in');
    }
  });

  test('SR-22 refused callbacks are counted in the audit trail, not written one row each', async () => {
    const rows = async () => (await server.store.listAuditRows({ event: 'login.refused', limit: 1000 })).length + (await server.store.listAuditRows({ event: 'login.failed', limit: 1000 })).length;
    server.clock.advance(60);
    const before = await rows();
    for (let i = 0; i < 20; i++) await new Browser().fetch(`${server.issuer}/login/upstream/idp/callback?code=x&state=guess${i}`);
    const after = await rows();
    assert.equal(after - before, 1, `${after - before} rows for 20 refused callbacks in one minute`);
  });
});
