import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createUser, inputValue, PASSWORD } from '../helpers/user-flow.ts';

const cli = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));

/**
 * Passkeys over real HTTP with a software authenticator (SR-15): adding one needs a recent login, users and admins
 * remove them, a password reset removes them, and passkey logins share the password login's throttle.
 */
forEachStore('SR-15 passkeys', (fixture) => {
  let server: TestServer;
  let origin: string;

  before(async () => {
    server = await startTestServer(fixture);
    origin = new URL(server.issuer).origin;
  });
  after(() => server.close());

  const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;
  const json = (csrf: string) => ({ 'content-type': 'application/json', 'x-csrf-token': csrf });

  async function signIn(email: string, browser = new Browser()): Promise<{ browser: Browser; csrf: () => Promise<string> }> {
    const page = await (await browser.fetch(`${server.issuer}/login`)).text();
    const response = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), return_to: '/account', email, password: PASSWORD });
    assert.equal(response.status, 303);
    return { browser, csrf: async () => inputValue(await (await browser.fetch(`${server.issuer}/account`)).text(), 'csrf') };
  }
  const registrationOptions = async (session: { browser: Browser; csrf: () => Promise<string> }) =>
    session.browser.fetch(`${server.issuer}/account/passkeys/options`, { method: 'POST', headers: json(await session.csrf()), body: '{}' });
  async function register(session: { browser: Browser; csrf: () => Promise<string> }, authenticator = new SoftwareAuthenticator()): Promise<SoftwareAuthenticator> {
    const options = await registrationOptions(session);
    assert.equal(options.status, 200, await options.clone().text());
    const body = JSON.stringify({ response: authenticator.register((await options.json()) as never, origin), name: 'Laptop' });
    const response = await session.browser.fetch(`${server.issuer}/account/passkeys`, { method: 'POST', headers: json(await session.csrf()), body });
    assert.equal(response.status, 200, await response.clone().text());
    return authenticator;
  }
  /** A passkey login from a fresh browser (or `from` an address the test client forwards for). */
  async function passkeyLogin(authenticator: SoftwareAuthenticator, userId: string, headers: Record<string, string> = {}): Promise<Response> {
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login`, { headers })).text();
    const csrf = inputValue(page, 'csrf');
    const options = (await (await browser.fetch(`${server.issuer}/login/passkey/options`, { method: 'POST', headers: { ...headers, ...json(csrf) }, body: '{}' })).json()) as never;
    const body = JSON.stringify({ response: authenticator.authenticate(options, origin, userId), return_to: '/account' });
    return browser.fetch(`${server.issuer}/login/passkey`, { method: 'POST', headers: { ...headers, ...json(csrf) }, body });
  }

  test('SR-15 adding a passkey needs a recent login (5 minutes by default); after that the page asks to sign in again', async () => {
    const email = unique('recent');
    const userId = await createUser(server, email);
    const session = await signIn(email);
    assert.match(await (await session.browser.fetch(`${server.issuer}/account`)).text(), /id="passkey-register"/);
    server.clock.advance(301);
    const stale = await registrationOptions(session);
    assert.equal(stale.status, 403, 'a borrowed session cannot plant a passkey');
    assert.match(((await stale.json()) as { detail: string }).detail, /sign in again/);
    const page = await (await session.browser.fetch(`${server.issuer}/account`)).text();
    assert.doesNotMatch(page, /id="passkey-register"/);
    assert.match(page, /<a href="\/login\?return_to=%2Faccount">sign in again<\/a>/);
    await signIn(email, session.browser);
    const authenticator = await register(session);
    assert.equal((await passkeyLogin(authenticator, userId)).status, 200);

    // A ceremony started inside the window and finished outside it is refused too.
    const options = (await (await registrationOptions(session)).json()) as never;
    server.clock.advance(301);
    const late = await session.browser.fetch(`${server.issuer}/account/passkeys`, { method: 'POST', headers: json(await session.csrf()), body: JSON.stringify({ response: new SoftwareAuthenticator().register(options, origin) }) });
    assert.equal(late.status, 403);
    assert.equal((await server.store.listPasskeys(userId)).length, 1);
  });

  test('SR-15 users remove their passkeys on /account; admins through the admin API and the CLI', async () => {
    const email = unique('remove');
    const userId = await createUser(server, email);
    const session = await signIn(email);
    const [mine, admins, clis] = [await register(session), await register(session), await register(session)];
    for (const a of [mine, admins, clis]) assert.equal((await passkeyLogin(a, userId)).status, 200);

    const page = await (await session.browser.fetch(`${server.issuer}/account`)).text();
    assert.match(page, /aria-label="Remove passkey Laptop added/);
    const removed = await session.browser.postForm(`${server.issuer}/account/passkeys/remove`, { csrf: inputValue(page, 'csrf'), credential_id: mine.credentialId.toString('base64url') });
    assert.equal(removed.headers.get('location'), '/account?notice=passkey-removed');
    assert.equal((await passkeyLogin(mine, userId)).status, 400, 'a removed passkey signs nobody in');

    const listed = (await (await server.admin('GET', `/users/${userId}/passkeys`)).json()) as { passkeys: { credential_id: string }[] };
    assert.deepEqual(listed.passkeys.map((p) => p.credential_id).sort(), [admins, clis].map((a) => a.credentialId.toString('base64url')).sort());
    const path = `/users/${userId}/passkeys/${admins.credentialId.toString('base64url')}`;
    assert.equal((await server.admin('DELETE', path)).status, 204);
    assert.equal((await server.admin('DELETE', path)).status, 404);
    assert.equal((await passkeyLogin(admins, userId)).status, 400);

    const env = { ...process.env, MANDATE_KEK: server.config.keys.kek!, MANDATE_LOG_LEVEL: 'silent' };
    const run = (args: string[]) => spawnSync(process.execPath, [cli, 'user', ...args, '--db', fixture.url], { encoding: 'utf8', env });
    const list = run(['passkeys', email]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(clis.credentialId.toString('base64url')));
    const cut = run(['remove-passkey', email, clis.credentialId.toString('base64url')]);
    assert.equal(cut.status, 0, cut.stderr);
    assert.equal(run(['remove-passkey', email, clis.credentialId.toString('base64url')]).status, 1);
    assert.equal((await passkeyLogin(clis, userId)).status, 400);
    const audit = await server.store.listAuditRows({ event: 'passkey.removed', limit: 100 });
    assert.deepEqual(audit.filter((row) => row.subject === userId).map((row) => row.detail?.['by']).sort(), ['admin', 'admin', 'user']);
  });

  test('SR-15 a password reset removes the user’s passkeys, unless users.passwordResetRevokesPasskeys is off', async () => {
    const email = unique('reset');
    const userId = await createUser(server, email);
    const authenticator = await register(await signIn(email));
    assert.equal((await server.admin('PATCH', `/users/${userId}`, { password: 'a brand new password' })).status, 200);
    assert.equal((await passkeyLogin(authenticator, userId)).status, 400);
    assert.deepEqual(await server.store.listPasskeys(userId), []);

    const keeping = await startTestServer(fixture, { users: { passwordResetRevokesPasskeys: false } });
    try {
      const other = unique('keep');
      const otherId = await createUser(server, other);
      const kept = await register(await signIn(other));
      assert.equal((await keeping.admin('PATCH', `/users/${otherId}`, { password: 'a brand new password' })).status, 200);
      assert.equal((await server.store.listPasskeys(otherId)).length, 1, 'kept by the operator’s choice');
      assert.equal((await passkeyLogin(kept, otherId)).status, 200);
    } finally {
      await keeping.close();
    }
  });

  test('SR-15 failed passkey logins share the login throttle (password attempts too) and are counted in the audit trail', async () => {
    const email = unique('throttle');
    const userId = await createUser(server, email);
    const genuine = await register(await signIn(email));
    const forged = new SoftwareAuthenticator(genuine.credentialId);
    server.clock.advance(60);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await passkeyLogin(forged, userId)).status);
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429, 429], 'five checked, then the account is locked');
    assert.equal((await passkeyLogin(genuine, userId)).status, 429, 'the real passkey waits too');
    const browser = new Browser();
    const password = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(await (await browser.fetch(`${server.issuer}/login`)).text(), 'csrf'), return_to: '/account', email, password: PASSWORD });
    assert.equal(password.status, 429, 'and so does the password: one throttle per account');
    const failed = (await server.store.listAuditRows({ event: 'login.failed', limit: 1000 })).filter((row) => row.actor === userId);
    assert.equal(failed.length, 1, 'one row for the minute; the other failures are counted');
    server.clock.advance(3600);
    assert.equal((await passkeyLogin(genuine, userId)).status, 200);
  });
});
