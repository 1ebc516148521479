import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import Provider from 'oidc-provider';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createUser, inputValue } from '../helpers/user-flow.ts';

const unescape = (v: string) => v.replace(/&amp;/g, '&').replace(/&#x2F;/g, '/').replace(/&#x3D;/g, '=');

/**
 * Login through a real upstream OpenID provider: panva's oidc-provider, started in the test with its development
 * login and consent pages, as the IdP that Mandate (the relying party) sends the browser to.
 */
forEachStore('login through an upstream OpenID provider', (fixture) => {
  let idpServer: Server;
  let idpIssuer: string;
  let server: TestServer;

  before(async () => {
    idpServer = createServer();
    await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
    idpIssuer = `http://localhost:${(idpServer.address() as AddressInfo).port}`;
    const upstream = { issuer: idpIssuer, clientId: 'mandate', clientSecret: 'upstream-secret', scopes: ['openid', 'email', 'profile'] };
    server = await startTestServer(fixture, {
      upstreamProviders: [
        { id: 'idp', name: 'Example IdP', ...upstream, linkByVerifiedEmail: false, provision: true },
        { id: 'idp-link', name: 'Example IdP (trusted email)', ...upstream, linkByVerifiedEmail: true, provision: false },
      ],
    });
    const provider = new Provider(idpIssuer, {
      clients: [
        {
          client_id: 'mandate',
          client_secret: 'upstream-secret',
          redirect_uris: [`${server.issuer}/login/upstream/idp/callback`, `${server.issuer}/login/upstream/idp-link/callback`],
        },
      ],
      async findAccount(_ctx, id) {
        return { accountId: id, claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: true, name: `Upstream ${id}` }) };
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      features: { devInteractions: { enabled: true } },
    });
    idpServer.on('request', provider.callback());
  });
  after(async () => {
    await server.close();
    idpServer.closeAllConnections();
    await new Promise((resolve) => idpServer.close(resolve));
  });

  /** Starts the upstream login from Mandate's login page and signs in at the IdP as `login`. */
  async function upstreamLogin(browser: Browser, providerId: string, login: string): Promise<Response> {
    const page = await (await browser.fetch(`${server.issuer}/login?return_to=%2Faccount`)).text();
    assert.match(page, /Example IdP/);
    let response = await browser.postForm(`${server.issuer}/login/upstream/${providerId}`, { csrf: inputValue(page, 'csrf'), return_to: '/account' });
    assert.equal(response.status, 303);
    const authorize = new URL(response.headers.get('location')!);
    assert.equal(authorize.origin, idpIssuer);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authorize.searchParams.get('nonce'));
    let url = authorize.href;
    for (let hop = 0; hop < 20; hop++) {
      response = await browser.fetch(url);
      const location = response.headers.get('location');
      if (location) {
        url = new URL(location, url).href;
        if (url.startsWith(server.issuer)) return browser.fetch(url);
        continue;
      }
      const html = await response.text();
      const action = unescape(/<form[^>]*action="([^"]+)"/.exec(html)![1]!);
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)![1]!;
      const form: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'anything' } : { prompt };
      response = await browser.postForm(new URL(action, url).href, form);
      url = new URL(response.headers.get('location')!, url).href;
    }
    throw new Error('the upstream login did not come back');
  }

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
    const identities = await server.context.store.listIdentities(bobId);
    assert.equal(identities.length, 1);
    assert.equal(identities[0]!.issuer, idpIssuer);
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
});
